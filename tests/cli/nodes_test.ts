import assert from "node:assert/strict";
import type { LogEvent } from "../../src/event.ts";
import type { NodeChange } from "../../src/query/node_compare.ts";
import type { NodeStatsRow } from "../../src/query/node_stats.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { makeEvent } from "../support/log_event.ts";
import { logNormal, seededRandom } from "../support/seeded_random.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { cli, oneLine } from "./_run.ts";

const RUNS = 200;

/**
 * `RUNS` runs of flow "agent" from `t0`: steps fetch (~20 ms) and parse
 * (~5 ms, every 10th failed), an LLM node (~300 ms × `slowdown`, with usage).
 */
function runs(t0: number, seed: number, slowdown = 1): LogEvent[][] {
  const next = seededRandom(seed);
  const batches: LogEvent[][] = [];
  let ts = t0;
  for (let r = 0; r < RUNS; r++) {
    const ids = { flow_id: "agent", run_id: `r-${t0}-${r}` };
    const fetch = logNormal(next, Math.log(20), 0.3);
    const parse = logNormal(next, Math.log(5), 0.3);
    const complete = logNormal(next, Math.log(300), 0.3) * slowdown;
    const failed = r % 10 === 0;
    batches.push([
      makeEvent(ts++, {
        ...ids,
        step_id: "fetch",
        step_type: "http",
        status: "ok",
        duration_ms: fetch,
      }),
      makeEvent(ts++, {
        ...ids,
        node: "complete",
        category: "llm",
        duration_ms: complete,
        usage: { input_tokens: 50, output_tokens: 10, cost_usd: 0.002 },
      }, { event: "node_exit" }),
      makeEvent(
        ts++,
        {
          ...ids,
          step_id: "parse",
          step_type: "tool",
          status: failed ? "failed" : "ok",
          duration_ms: parse,
        },
        { level: failed ? "error" : "info" },
      ),
      makeEvent(ts++, { ...ids, status: "ok", duration_ms: fetch + complete + parse }, {
        event: "run_end",
      }),
    ]);
  }
  return batches;
}

function writeStore(dir: string, ...batches: LogEvent[][][]): void {
  const store = SegmentStore.open(dir);
  let seq = 0;
  for (const batch of batches.flat()) {
    store.append(batch.map((e) => ({ ...e, seq: ++seq })));
  }
  store.close();
}

const T0 = 1_000_000;
const T1 = 2_000_000;

Deno.test("nodes lists each node with counts, percentiles and cost, by cost then total time", async () => {
  await withTempDir(async (dir) => {
    writeStore(dir, runs(T0, 1));
    const json = await cli("nodes", dir, "--json");
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as NodeStatsRow[];
    assert.deepEqual(rows.map((r) => [r.kind, r.name, r.count, r.ok, r.failed]), [
      ["node", "complete", 200, 200, 0],
      ["step", "fetch", 200, 200, 0],
      ["step", "parse", 200, 180, 20],
    ]);
    const complete = rows[0]!;
    assert.deepEqual([complete.tokens_in, complete.tokens_out], [10_000, 2_000]);
    assert.ok(Math.abs(complete.cost_usd - 0.4) < 1e-9);
    assert.ok(complete.p50! > 250 && complete.p50! < 350, String(complete.p50));
    const shares = rows.reduce((n, r) => n + r.wall_share!, 0);
    assert.ok(Math.abs(shares - 1) < 1e-9, String(shares));

    const byErrors = JSON.parse((await cli("nodes", dir, "--json", "--sort", "errors")).stdout);
    assert.equal(byErrors[0].name, "parse");
    const glob = JSON.parse((await cli("nodes", dir, "--json", "--node", "f*")).stdout);
    assert.deepEqual(glob.map((r: NodeStatsRow) => r.name), ["fetch"]);

    const text = await cli("nodes", dir, "--sort", "p99");
    assert.equal(text.code, 0);
    const lines = text.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^NODE +COUNT +FAILED +P50 +P90 +P99 +MAX +TOTAL +SHARE/);
    assert.match(lines[1]!, /^complete \(llm\) \[node\] +200 +0 /);
    assert.match(lines[3]!, /^parse \(tool\) +200 +20 /);
  });
});

Deno.test("nodes --baseline with another store marks a node made 2x slower, not the others", async () => {
  await withTempDir(async (before) => {
    await withTempDir(async (after) => {
      writeStore(before, runs(T0, 1));
      // Other draws of the same distributions, but the LLM node twice as slow.
      writeStore(after, runs(T1, 2, 2));
      const run = await cli("nodes", after, "--json", "--baseline", before);
      assert.equal(run.code, 0, run.stderr);
      const changes = JSON.parse(run.stdout) as NodeChange[];
      const verdicts = Object.fromEntries(changes.map((c) => [c.name, c.verdict]));
      assert.deepEqual(verdicts, { complete: "slower", fetch: "same", parse: "same" });
      const complete = changes.find((c) => c.name === "complete")!;
      assert.ok(Math.abs(complete.p50_change! - 100) < 15, String(complete.p50_change));
      for (const c of changes.filter((c) => c.name !== "complete")) {
        assert.ok(Math.abs(c.z!) < 3.29, `${c.name}: z ${c.z}`);
      }
      const text = await cli("nodes", after, "--baseline", before);
      assert.match(text.stdout, /^complete \(llm\) \[node\] +200 → 200 .* slower$/m);
      assert.match(text.stdout, /^fetch \(http\) .* same$/m);
    });
  });
});

Deno.test("nodes --baseline with filter clauses compares two windows of one store", async () => {
  await withTempDir(async (dir) => {
    // Unchanged runs, then the same runs twice as slow in every node.
    writeStore(dir, runs(T0, 3), runs(T1, 4, 2));
    const run = await cli(
      "nodes",
      dir,
      "--json",
      "--since",
      String(T1),
      "--baseline",
      // The baseline's time clause replaces the whole window: everything before T1.
      `until=${T1}`,
    );
    assert.equal(run.code, 0, run.stderr);
    const changes = JSON.parse(run.stdout) as NodeChange[];
    assert.deepEqual(changes.map((c) => [c.name, c.verdict]), [["complete", "slower"], [
      "fetch",
      "same",
    ], ["parse", "same"]]);
    // Window against itself: nothing changed.
    const same = await cli("nodes", dir, "--json", "--baseline", "node=*");
    assert.deepEqual(
      (JSON.parse(same.stdout) as NodeChange[]).map((c) => [c.verdict, c.z]),
      [["same", 0], ["same", 0], ["same", 0]],
    );
  });
});

Deno.test("nodes refuses a bad sort, filter or baseline with what to give", async () => {
  await withTempDir(async (dir) => {
    writeStore(dir, runs(T0, 1).slice(0, 2));
    for (
      const [args, pattern] of [
        [["--sort", "slowest"], /Invalid --sort "slowest": use one of cost, total, p99, count/],
        [
          ["--baseline", "level=error"],
          /Invalid --baseline clause "level=error": write flag=value/,
        ],
        [["--since", "yesterday"], /Invalid --since "yesterday": give epoch milliseconds/],
        [["--level", "error"], /Unknown option '--level': run `flightlog help nodes`/],
        [["--until", "1", "--since", "5"], /since_ms \(5\) is after until_ms \(1\): swap them/],
      ] as const
    ) {
      const run = await cli("nodes", dir, ...args);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, pattern);
      assert.ok(oneLine(run.stderr));
    }
    const none = await cli("nodes", dir, "--flow", "other");
    assert.equal(none.code, 0);
    assert.match(none.stderr, /No nodes in .* match: nodes are steps/);
  });
});
