/**
 * A fixture script in a Deno process of its own: fed JSON on stdin, how the
 * end-to-end tests see what a real process writes to its console; and the
 * browser tests' fixtures, which drive Chromium and print what they saw.
 *
 * @module
 */
import assert from "node:assert/strict";

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

/**
 * Runs the browser fixture `fixture` (a path) with `args` under Deno from the
 * repository root, asserts that it exited 0, and returns what it printed, as
 * JSON. playwright-core probes /proc/sys at import, which Deno allows only
 * with --allow-all: that is why the browser half runs in its own process.
 */
// deno-lint-ignore no-explicit-any -- untyped as JSON.parse() is: each test reads its fixture's fields
export async function runBrowserFixture(fixture: string, args: string[]): Promise<any> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", fixture, ...args],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  assert.equal(out.code, 0, text.decode(out.stderr));
  return JSON.parse(text.decode(out.stdout));
}
