/**
 * The export progress bar: drawn on a terminal, absent in a pipe. The
 * terminal is real: util-linux `script` runs the CLI under a pseudo-terminal.
 */
import assert from "node:assert/strict";
import { writeFlowStore } from "../support/flow_store.ts";
import { cli, CLI_ARGS, ROOT } from "./_run.ts";

const SHAPE = { flows: 2, steps: 40, callsPerStep: 2, flushEverySteps: 5 };

/** Runs the CLI under a pseudo-terminal and returns what the terminal showed. */
async function cliOnTerminal(...args: string[]): Promise<{ code: number; screen: string }> {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [Deno.execPath(), ...CLI_ARGS, ...args].map(quote).join(" ");
  const output = await new Deno.Command("script", {
    args: ["-q", "-e", "-c", command, "/dev/null"],
    cwd: ROOT,
    env: { NO_COLOR: "1", TERM: "xterm" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, screen: new TextDecoder().decode(output.stdout) };
}

Deno.test("export draws a progress bar on a terminal, and none in a pipe or with -q", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-cli-progress-" });
  const out = await Deno.makeTempDir({ prefix: "flightlog-cli-progress-out-" });
  try {
    await writeFlowStore(dir, SHAPE);
    const file = `${out}/events.jsonl`;
    const tty = await cliOnTerminal("export", dir, "--format", "jsonl", "-o", file);
    assert.equal(tty.code, 0, tty.screen);
    // cli-progress redraws one line: it starts at 0% and ends at 100%.
    assert.match(tty.screen, /export \[[^\]]*\] 0% \| 0\/\d+ (events|KiB)/);
    assert.match(tty.screen, /export \[[^\]]*\] 100% \| (\d+)\/\1 (events|KiB)/);
    const lines = (await Deno.readTextFile(file)).split("\n").filter((l) => l !== "");
    assert.ok(lines.length > 0);

    const quiet = await cliOnTerminal("export", dir, "--format", "jsonl", "-o", file, "-q");
    assert.equal(quiet.code, 0, quiet.screen);
    assert.doesNotMatch(quiet.screen, /export \[/);

    const piped = await cli("export", dir, "--format", "jsonl", "-o", file);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, "", "no bar when stderr is not a terminal");
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(out, { recursive: true });
  }
});
