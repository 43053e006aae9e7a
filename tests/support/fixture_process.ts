/**
 * A fixture script in a Deno process of its own, fed JSON on stdin: how the
 * end-to-end tests see what a real process writes to its console.
 *
 * @module
 */

/** What a finished fixture process left. */
export interface FixtureOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `fixture` (a path) with `args` under Deno, allowed to read, write and
 * read the environment, with `env` and `input` as JSON on its stdin; resolves
 * once it has exited.
 */
export async function runFixtureWithInput(
  fixture: string,
  args: string[],
  input: unknown,
  env: Record<string, string> = {},
): Promise<FixtureOutput> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", fixture, ...args],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(input)));
  await w.close();
  const out = await child.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}
