/**
 * The demo, run as `deno task demo` runs it (the task's own flags) in a fresh
 * working directory: it exits 0, prints the tree of a run written with the
 * lifecycle API (a failed step, a skipped one, the model calls' nodes), and
 * its summary counts the provider calls, tokens and cost that the store it
 * wrote holds.
 */
import assert from "node:assert/strict";
import { cli, ROOT } from "../cli/_run.ts";

/** The demo task's arguments after `deno`, e.g. `run --allow-read … examples/agent_flow.ts`. */
async function demoArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const [_deno, ...args] = (config.tasks.demo as string).split(" ");
  const script = args.pop()!;
  assert.equal(script, "examples/agent_flow.ts");
  return [...args, "--config", `${ROOT}deno.json`, `${ROOT}${script}`];
}

Deno.test("the demo's summary counts its provider calls, tokens and cost", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "flightlog-demo-" });
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: await demoArgs(),
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    const stdout = text.decode(output.stdout);
    assert.equal(output.code, 0, text.decode(output.stderr) + stdout);

    const flowId = stdout.match(/^flow (demo-agent-\S+) {2}run /)?.[1];
    assert.ok(flowId, stdout);
    assert.match(stdout, /^run-\S+ \(run\) {2}✗ failed /m);
    assert.match(stdout, /^ {4}plan \(step: llm\) {2}✓ ok /m);
    assert.match(stdout, /^ {6}llm\.complete \(node\) {2}✓ ok /m);
    assert.match(stdout, /^ {4}validate \(step: tool\) {2}✗ failed /m);
    assert.match(stdout, /^ {6}error E_TOO_LONG: summary exceeds 280 characters/m);
    // One failed step: the summary counts it in the singular.
    assert.match(stdout, /^summary: \d+ events over [\d.]+ ms, 1 error; by level /m);
    assert.match(stdout, /^ {4}post \(step: http\) {2}↷ skipped /m);
    assert.match(stdout, /^caller cost per event .*: \d+ ns$/m);

    const usage = stdout.match(
      /^provider calls: (\d+), tokens: (\d+) \((\d+) in, (\d+) out\), cost: \$(\d+\.\d{6})$/m,
    );
    assert.ok(usage, stdout);
    const [calls, total, input, out, cost] = usage.slice(1).map(Number) as number[];
    assert.equal(calls, 2, "two model calls (the search call reports no usage)");
    assert.ok(input! > 0 && out! > 0 && total === input! + out!, usage[0]);
    assert.ok(cost! > 0, usage[0]);

    // The same figures as the store the demo wrote (./.flightlog in its working directory).
    const show = await cli("show", `${cwd}/.flightlog`, flowId, "--json");
    assert.equal(show.code, 0, show.stderr);
    const stored = JSON.parse(show.stdout).summary;
    assert.deepEqual(
      [stored.provider_calls, stored.total_tokens, stored.input_tokens, stored.output_tokens],
      [calls, total, input, out],
    );
    assert.equal(stored.cost_usd.toFixed(6), usage[5]);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
