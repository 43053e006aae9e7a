/** `tail` in a subprocess: the last events, then new ones from a live logger with `-f`. */
import assert from "node:assert/strict";
import { createLogger } from "../../mod.ts";
import { writeFlowStore } from "../support/flow_store.ts";
import { cli, CLI_ARGS, ROOT } from "./_run.ts";

Deno.test("tailCommand() prints the last events, then follows a live logger until Ctrl-C", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-tail-" });
  try {
    await writeFlowStore(dir, { flows: 2, steps: 60, callsPerStep: 1 });

    const errors = await cli("tail", dir, "--level", "error", "-n", "5", "--format", "jsonl");
    assert.equal(errors.code, 0, errors.stderr);
    const lines = errors.stdout.trim().split("\n").map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((e) => [e.fields.flow_id, e.fields.step_id]), [
      ["flow-0000", "step-49"],
      ["flow-0001", "step-49"],
    ]);

    const child = new Deno.Command(Deno.execPath(), {
      args: [...CLI_ARGS, "tail", dir, "-n", "1", "-f", "--format", "jsonl", "--interval", "20"],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    const readLines = async (n: number): Promise<Record<string, unknown>[]> => {
      while (buffer.split("\n").length - 1 < n) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`tail ended early: ${buffer}`);
        buffer += value;
      }
      const all = buffer.split("\n");
      buffer = all.slice(n).join("\n");
      return all.slice(0, n).map((line) => JSON.parse(line));
    };

    // The newest stored event first: tail has read the store before anything new is written.
    const [last] = await readLines(1);
    assert.equal(last!.event, "run_summary");

    const log = createLogger({ dir, exitHooks: false });
    const live = log.child({ flow_id: "live", run_id: "r" });
    live.info("run_start");
    live.error("step_end", { step_id: "s", status: "failed" });
    live.info("run_end", { status: "failed" });
    await log.flush();
    const fresh = await readLines(3);
    assert.deepEqual(fresh.map((e) => [e.event, (e.fields as Record<string, unknown>).flow_id]), [
      ["run_start", "live"],
      ["step_end", "live"],
      ["run_end", "live"],
    ]);
    await log.close();

    child.kill("SIGINT");
    const status = await child.status;
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    assert.equal(status.code, 0, await stderr);
    assert.equal(await stderr, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
