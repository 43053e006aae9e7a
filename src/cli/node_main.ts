/**
 * The command line on Node.js: the npm package's `flightlog` bin runs
 * {@linkcode runNodeCli} from its Node.js build (`dist/node/cli.js`, built
 * by scripts/build.ts with the Node.js platform swapped in). The commands
 * are `main.ts`'s; only the process around them differs from Deno's.
 *
 * @module
 */
import { writeSync } from "node:fs";
import process from "node:process";
import { isatty } from "node:tty";
import { type CliIo, Output } from "./_common.ts";
import { main } from "./main.ts";

export { HELP, main } from "./main.ts";

/** Writes all of `bytes` to `fd`, waiting out a full non-blocking pipe (`EAGAIN`). */
function writeFd(fd: number, bytes: Uint8Array): number {
  try {
    return writeSync(fd, bytes);
  } catch (error) {
    if ((error as { code?: unknown }).code === "EAGAIN") return 0;
    throw error;
  }
}

/** The process's streams; Ctrl-C resolves `interrupted` (and is then handled, not fatal). */
function nodeProcessIo(): CliIo {
  let interrupt = () => {};
  const interrupted = new Promise<void>((resolve) => interrupt = resolve);
  const onSignal = () => interrupt();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const errors = new TextEncoder();
  return {
    out: new Output({ writeSync: (bytes) => writeFd(1, bytes) }),
    err(line: string) {
      try {
        const bytes = errors.encode(line + "\n");
        let at = 0;
        while (at < bytes.length) at += writeFd(2, bytes.subarray(at));
      } catch {
        // Nowhere left to report to.
      }
    },
    // NO_COLOR set to anything turns colors off, as Deno.noColor does.
    outIsTty: isatty(1) && process.env.NO_COLOR === undefined,
    errIsTty: isatty(2),
    interrupted,
  };
}

/** Runs the command line with the process's arguments, then exits with its exit code. */
export async function runNodeCli(): Promise<never> {
  process.exit(await main(process.argv.slice(2), nodeProcessIo()));
}
