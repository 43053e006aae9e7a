/**
 * Runs the real CLI (`src/cli/main.ts`) in a subprocess, as `deno task cli`
 * does, with colors off.
 *
 * @module
 */

/** The repository root: the subprocess's working directory, so it finds deno.json. */
export const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = new URL("../../src/cli/main.ts", import.meta.url).pathname;

/**
 * Arguments of `deno` that start the CLI, with the permissions its installs
 * grant (`deno install -g`, npm's bin): reading stores, writing exports, naming the CPU.
 */
export const CLI_ARGS = ["run", "--allow-read", "--allow-write", "--allow-sys=cpus", MAIN];

/** What a CLI run returned. */
export interface CliRun {
  /** Exit code. */
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** Runs `flightlog <args>` to completion. */
export function cli(...args: string[]): Promise<CliRun> {
  return cliWithEnv({}, ...args);
}

/** Runs `flightlog <args>` to completion with `env` added to its environment. */
export async function cliWithEnv(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...CLI_ARGS, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

/** Standard error is one line (the CLI's error contract). */
export function oneLine(stderr: string): boolean {
  return stderr.endsWith("\n") && stderr.indexOf("\n") === stderr.length - 1;
}
