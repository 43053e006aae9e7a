/**
 * The CLI end to end: every command run in a subprocess on stores written by
 * the real logger, including a damaged copy.
 */
import assert from "node:assert/strict";
import { emptyReadDamage, readStoreRecords } from "../../src/export/store_reader.ts";
import { flowStoreEvents, writeFlowStore } from "../support/flow_store.ts";
import { cli, oneLine } from "./_run.ts";

const SHAPE = { flows: 3, steps: 60, callsPerStep: 2, flushEverySteps: 5 };
const TOTAL = flowStoreEvents(SHAPE); // 729
const PER_FLOW = TOTAL / SHAPE.flows;

async function copyDir(from: string, to: string): Promise<void> {
  for await (const entry of Deno.readDir(from)) {
    if (entry.isFile) await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

Deno.test("main() runs every command on a store written by the logger", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-cli-" });
  const damaged = await Deno.makeTempDir({ prefix: "flightlog-cli-damaged-" });
  try {
    await writeFlowStore(dir, SHAPE);

    await t.step("flows lists each flow with status, start, duration and counts", async () => {
      const run = await cli("flows", dir, "--json");
      assert.equal(run.code, 0, run.stderr);
      const rows = JSON.parse(run.stdout) as Record<string, unknown>[];
      assert.deepEqual(rows.map((r) => [r.flow_id, r.status, r.events, r.errors]), [
        ["flow-0000", "failed", PER_FLOW, 1],
        ["flow-0001", "failed", PER_FLOW, 1],
        ["flow-0002", "failed", PER_FLOW, 1],
      ]);
      assert.equal(rows[0]!.start_ms, 1_767_225_600_000);
      const text = await cli("flows", dir);
      assert.match(text.stdout, /^FLOW\s+STATUS\s+START\s+DURATION\s+EVENTS\s+ERRORS\n/);
      assert.match(text.stdout, /flow-0001\s+failed\s+2026-01-01T00:00:00\.000Z\s+\S+\s+243\s+1\n/);
    });

    await t.step("show prints the span tree, the failed step and the summary", async () => {
      const run = await cli("show", dir, "flow-0001");
      assert.equal(run.code, 0, run.stderr);
      const out = run.stdout.split("\n");
      assert.match(out[0]!, /^flow flow-0001 .* events 243 {2}errors 1$/);
      assert.match(out[1]!, /^run-1 \(run\) error /);
      assert.match(out[2]!, /^└─ main \(job, no events\) error /);
      assert.match(run.stdout, /step-49 \(step: llm\) error \S+ {2}4 events {2}step 49 timed out/);
      assert.match(run.stdout, /├─ step-0 \(step: llm\) ok /);
      assert.match(run.stdout, /levels: info 242, error 1/);
      const json = JSON.parse((await cli("show", dir, "flow-0001", "--json")).stdout);
      assert.equal(json.spans[0].children[0].children.length, SHAPE.steps);
    });

    await t.step("query filters like the API and writes text, JSON or JSON Lines", async () => {
      const run = await cli(
        "query",
        dir,
        "--flow",
        "flow-0002",
        "--level",
        "error",
        "--format",
        "jsonl",
      );
      assert.equal(run.code, 0, run.stderr);
      const events = lines(run.stdout).map((line) => JSON.parse(line));
      assert.equal(events.length, 1);
      assert.equal(events[0].fields.status, "failed");
      assert.equal(events[0].fields.error.message, "step 49 timed out");
      const where = await cli(
        "query",
        dir,
        "--where",
        "step_id=step-3",
        "--event",
        "step_*",
        "--format",
        "json",
      );
      assert.equal(JSON.parse(where.stdout).length, 2 * SHAPE.flows);
      const text = await cli("query", dir, "--flow", "flow-0000", "--limit", "1");
      assert.match(
        text.stdout,
        /^2026-01-01T00:00:00\.000Z INFO {2}run_start flow_id=flow-0000 run_id=run-0\n$/,
      );
    });

    await t.step("export writes every event as JSON Lines, JSON or OTLP", async () => {
      const jsonl = await cli("export", dir, "--format", "jsonl");
      assert.equal(jsonl.code, 0, jsonl.stderr);
      const events = lines(jsonl.stdout).map((line) => JSON.parse(line));
      assert.equal(events.length, TOTAL);
      const queried = lines((await cli("query", dir, "--format", "jsonl")).stdout);
      assert.deepEqual(
        events.map((e) => JSON.stringify(e)).sort(),
        queried.sort(),
        "export and query give the same events",
      );
      const file = `${dir}/../flightlog-export-${crypto.randomUUID()}.json`;
      try {
        const json = await cli(
          "export",
          dir,
          "--format",
          "json",
          "-o",
          file,
          "--flow",
          "flow-0001",
        );
        assert.equal(json.code, 0, json.stderr);
        assert.equal(JSON.parse(await Deno.readTextFile(file)).length, PER_FLOW);
      } finally {
        await Deno.remove(file).catch(() => {});
      }
      const otlp = await cli("export", dir, "--format", "otlp");
      assert.equal(otlp.code, 0, otlp.stderr);
      const requests = lines(otlp.stdout).map((line) => JSON.parse(line));
      const logs = requests.filter((r) => r.resourceLogs);
      const traces = requests.filter((r) => r.resourceSpans);
      assert.equal(
        logs.reduce((n, r) => n + r.resourceLogs[0].scopeLogs[0].logRecords.length, 0),
        TOTAL,
      );
      assert.equal(traces.length, SHAPE.flows);
      // One run, one job and every step of each flow.
      assert.equal(traces[0].resourceSpans[0].scopeSpans[0].spans.length, 2 + SHAPE.steps);
    });

    await t.step("stats counts segments, events, flows and the time range", async () => {
      const run = await cli("stats", dir, "--json");
      assert.equal(run.code, 0, run.stderr);
      const stats = JSON.parse(run.stdout);
      assert.equal(stats.events, TOTAL);
      assert.equal(stats.flows, SHAPE.flows);
      assert.equal(stats.errors, SHAPE.flows);
      assert.equal(stats.dropped, 0);
      assert.equal(stats.first_ts_ms, 1_767_225_600_000);
      assert.ok(stats.segments >= 1 && stats.bytes > 0);
    });

    await t.step("verify passes an intact store", async () => {
      const run = await cli("verify", dir);
      assert.equal(run.code, 0, run.stderr);
      assert.match(
        run.stdout,
        new RegExp(`^OK \\d+ segments, \\d+ intact records, ${TOTAL} events\\n$`),
      );
    });

    await t.step("bad input gets one line that says what to do and a non-zero exit", async () => {
      const cases: [string[], number, RegExp][] = [
        [["show", dir, "nope"], 1, /Unknown flow "nope" .* run `flightlog flows/],
        [["view", dir, "nope", "-o", "-"], 1, /Unknown flow "nope"/],
        [["export", dir, "--format", "jsonl", "--flow", "nope"], 1, /Unknown flow "nope"/],
        [["export", dir, "--format", "otlp", "--flow", "nope"], 1, /Unknown flow "nope"/],
        [["flows", `${dir}/missing`], 1, /No such directory .*: pass the store directory/],
        [["flows", damaged], 1, /is not a flightlog store \(no seg-\*\.flog files\)/],
        [["flows", dir, "--colour"], 2, /Unknown option '--colour': run `flightlog help flows`/],
        [["query", dir, "--level", "loud"], 2, /Invalid --level "loud": use one of trace, /],
        [["query", dir, "--since", "yesterday"], 2, /Invalid --since "yesterday": give epoch/],
        [["export", dir], 2, /Missing --format: give --format jsonl/],
        [
          ["export", dir, "--format", "xml"],
          2,
          /Invalid --format "xml": use one of jsonl, json, otlp/,
        ],
        [["show", dir], 2, /Missing <flow>: usage is `flightlog show <store dir> <flow>`/],
        [["frobnicate", dir], 2, /Unknown command "frobnicate": use one of flows, /],
      ];
      for (const [args, code, message] of cases) {
        const run = await cli(...args);
        assert.equal(run.code, code, `${args.join(" ")}: ${run.stderr}`);
        assert.match(run.stderr, message);
        assert.ok(oneLine(run.stderr), `one line: ${JSON.stringify(run.stderr)}`);
        assert.equal(run.stdout, "");
      }
    });

    await t.step("a damaged store is verified precisely and read around", async () => {
      await copyDir(dir, damaged);
      const records = [...readStoreRecords(damaged, emptyReadDamage())];
      const victim = records[Math.floor(records.length / 2)]!;
      const size = 48 + new TextEncoder().encode(victim.flowId ?? "").length +
        victim.payload.length;
      assert.equal(victim.end - victim.start, size);
      const path = `${damaged}/${victim.segment}`;
      const bytes = await Deno.readFile(path);
      bytes[victim.start + size - 3]! ^= 0x10; // a bit flip inside the payload
      await Deno.writeFile(path, bytes);

      const verify = await cli("verify", damaged);
      assert.equal(verify.code, 3);
      assert.ok(
        verify.stdout.includes(
          `DAMAGE ${victim.segment} offset ${victim.start} (${size} bytes) checksum: CRC32C does not match`,
        ),
        verify.stdout,
      );
      assert.match(verify.stdout, /^DAMAGED .*1 damaged region\(s\)/m);
      assert.ok(oneLine(verify.stderr));

      const intact = TOTAL - victim.eventCount;
      const flows = await cli("flows", damaged, "--json");
      assert.equal(flows.code, 3);
      assert.match(
        flows.stderr,
        /Skipped 1 damaged region\(s\), \d+ bytes in .*run `flightlog verify/,
      );
      assert.ok(oneLine(flows.stderr));
      const rows = JSON.parse(flows.stdout) as { events: number }[];
      assert.equal(rows.reduce((n, r) => n + r.events, 0), intact);

      const exported = await cli("export", damaged, "--format", "jsonl");
      assert.equal(exported.code, 3);
      assert.equal(lines(exported.stdout).length, intact);
      const queried = await cli("query", damaged, "--format", "jsonl");
      assert.equal(queried.code, 3);
      assert.equal(lines(queried.stdout).length, intact);
      const stats = await cli("stats", damaged, "--json");
      assert.equal(stats.code, 3);
      assert.equal(JSON.parse(stats.stdout).events, intact);
      const show = await cli("show", damaged, victim.flowId!);
      assert.equal(show.code, 3, show.stderr);
      assert.match(show.stdout, /^flow /);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(damaged, { recursive: true });
  }
});
