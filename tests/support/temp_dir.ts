/**
 * A temporary directory for one test, removed with everything in it however
 * the test ends.
 *
 * @module
 */

/** Runs `fn` with a fresh temporary directory, then removes the directory. */
export async function withTempDir<T>(fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog_test_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
