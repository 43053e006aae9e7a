/**
 * Property-based redaction: canary secrets planted under sensitive keys in
 * nested objects, arrays, Maps, Error properties and causes, child bindings,
 * withContext() bindings and observable() captured inputs and outputs, and as
 * bearer tokens and card numbers inside ordinary strings. Not one canary
 * byte may reach the segment files or query results, and the caller's values
 * must be unchanged.
 */
import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import fc from "fast-check";
import { openDB } from "idb";
import { createLogger } from "../../mod.ts";
import { serveBrowserWorker } from "../../src/worker/serve_browser.ts";
import { Encoder } from "../../src/wire/codec.ts";
import { getRedactor } from "../../src/redact.ts";
import { createControlBuffer, createRingBuffer, RingProducer } from "../../src/wire/ring.ts";
import { IdbStore } from "../../src/store/idb_store.ts";
import { cli } from "../cli/_run.ts";
import { OtlpReceiver } from "../support/otlp_receiver.ts";
import {
  build,
  EVENTS_PER_PLANT,
  filesUnder,
  findCanary,
  logEverywhere,
  plantArb,
} from "../support/redaction_plants.ts";
import { runFixtureWithInput } from "../support/fixture_process.ts";

// Every CLI output that prints events: text, JSON, JSON Lines, OTLP, span tree, flows, tail.
function cliOutputs(dir: string, flows: string[]): string[][] {
  return [
    ["query", dir, "--limit", "100000"],
    ["query", dir, "--format", "json", "--limit", "100000"],
    ["query", dir, "--format", "jsonl", "--limit", "100000"],
    ["export", dir, "--format", "jsonl", "-q"],
    ["export", dir, "--format", "json", "-q"],
    ["export", dir, "--format", "otlp", "-q"],
    ["flows", dir],
    ["flows", dir, "--json"],
    ["tail", dir, "-n", "100000"],
    ...flows.flatMap((f) => [["show", dir, f], ["show", dir, f, "--json"]]),
  ];
}

/** Runs each CLI command (two at a time: the machine has two cores) and returns its stdout. */
async function runCli(commands: string[][]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < commands.length; i += 2) {
    await Promise.all(
      commands.slice(i, i + 2).map(async (args) => {
        const run = await cli(...args);
        assert.ok(run.code === 0, `${args.join(" ")}: exit ${run.code} ${run.stderr}`);
        out.set(args.join(" "), run.stdout);
      }),
    );
  }
  return out;
}

Deno.test("redaction leaves zero canary bytes in segment files and query results, inputs unchanged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-redaction-" });
  const log = createLogger({
    dir,
    transport: "inline",
    exitHooks: false,
    level: "debug",
    redact: { patterns: true },
  });
  const canaries: string[] = [];
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(plantArb, async (p) => {
        const flowId = `redaction-${run++}`;
        const { canary, value, text, needles } = build(p);
        canaries.push(...needles);
        const before = Deno.inspect(value, { depth: 20, sorted: true });
        logEverywhere(log, flowId, p, value, canary, text);
        assert.equal(Deno.inspect(value, { depth: 20, sorted: true }), before, "input unchanged");
        await log.flush();
        const page = await log.query({ flow_id: flowId, limit: 100 });
        assert.equal(page.events.length, EVENTS_PER_PLANT, "every event persisted");
        assert.equal(findCanary(page.events, needles), null, "canary in query results");
        assert.equal(
          findCanary(await log.getFlowLog(flowId), needles),
          null,
          "canary in the flow log",
        );
        assert.ok(JSON.stringify(page.events).includes("[REDACTED]"));
      }),
      { numRuns: 60 },
    );
    await log.flush({ durable: true });
  } finally {
    await log.close();
  }
  try {
    const files = await filesUnder(dir);
    assert.ok(files.length > 0 && files.some((f) => f.length > 1000), "segment files written");
    assert.equal(findCanary(files, canaries), null, "canary in the segment files");
    for (const [command, stdout] of await runCli(cliOutputs(dir, ["redaction-0", "redaction-1"]))) {
      assert.ok(stdout.length > 0, `${command} printed events`);
      assert.equal(findCanary(stdout, canaries), null, `canary in \`flightlog ${command}\``);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the canary search finds an unredacted secret (control)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-redaction-control-" });
  const log = createLogger({ dir, transport: "inline", exitHooks: false, redact: false });
  try {
    const flow = log.child({ flow_id: "control" });
    flow.info("run_start", { span_id: "run", run: "control" });
    flow.info("planted", { api_key: "c4n4ry0123456789abcdef", span_id: "run" });
    flow.error("failed", { span_id: "run", error: "c4n4ry0123456789abcdef" });
    flow.info("run_end", { span_id: "run", status: "ok", duration_ms: 1 });
    await log.flush({ durable: true });
    const page = await log.query({ flow_id: "control" });
    assert.ok(findCanary(page.events, ["c4n4ry0123456789abcdef"]), "found in query results");
  } finally {
    await log.close();
  }
  try {
    const needles = ["c4n4ry0123456789abcdef"];
    assert.ok(findCanary(await filesUnder(dir), needles), "found in the segment files");
    // `flows` prints per-flow summaries only, no field values: nothing to find there.
    const commands = cliOutputs(dir, ["control"]).filter((args) => args[0] !== "flows");
    for (const [command, stdout] of await runCli(commands)) {
      assert.ok(findCanary(stdout, needles), `found in \`flightlog ${command}\``);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const format of ["text", "json", "pretty"]) {
  Deno.test(`redaction leaves zero canary bytes in console ${format} output`, async () => {
    const plants = fc.sample(plantArb, { numRuns: 40, seed: format === "text" ? 1 : 2 });
    const dir = await Deno.makeTempDir({ prefix: "flightlog-redaction-console-" });
    try {
      const fixture = new URL("./fixtures/redaction_console.ts", import.meta.url).pathname;
      const env = { FLIGHTLOG_FORMAT: format };
      const out = await runFixtureWithInput(fixture, [dir], plants, env);
      const stderr = out.stderr;
      assert.equal(out.code, 0, stderr);
      const lines = stderr.split("\n").filter((l) => l !== "");
      // Pretty adds header and stack lines.
      const events = format === "pretty" ? lines.filter((l) => /^\S+Z [A-Z]/.test(l)) : lines;
      assert.equal(events.length, plants.length * EVENTS_PER_PLANT, "one line per event");
      if (format === "json") { for (const line of lines) JSON.parse(line); }
      assert.ok(stderr.includes("[REDACTED]"));
      for (const p of plants) {
        assert.equal(findCanary(stderr, build(p).needles), null, `${p.kind} on the console`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("redaction leaves zero canary bytes in OTLP uplink payloads", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-redaction-uplink-" });
  const receiver = OtlpReceiver.start();
  const log = createLogger({
    dir,
    exitHooks: false,
    level: "debug",
    redact: { patterns: true },
    uplink: { url: receiver.url, intervalMs: 10, batchEvents: 100 },
  });
  const needles: string[] = [];
  const plants = fc.sample(plantArb, { numRuns: 20, seed: 3 });
  try {
    plants.forEach((p, i) => {
      const { canary, value, text, needles: n } = build(p);
      needles.push(...n);
      logEverywhere(log, `uplink-${i}`, p, value, canary, text);
    });
    await log.flush();
    const want = plants.length * EVENTS_PER_PLANT;
    while (receiver.uids("logs").length < want) {
      await new Promise<void>((resolve) => (receiver.onCommit = () => resolve()));
    }
    while (receiver.uids("traces").length === 0) {
      await new Promise<void>((resolve) => (receiver.onCommit = () => resolve()));
    }
    assert.deepEqual(receiver.invalid, []);
    assert.equal(findCanary(receiver.received, needles), null, "canary in an OTLP payload");
    assert.ok(JSON.stringify(receiver.received).includes("[REDACTED]"));
  } finally {
    await log.close();
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("redaction leaves zero canary bytes in IndexedDB (browser worker, fake-indexeddb)", async () => {
  const control = createControlBuffer(true);
  const ring = createRingBuffer(1 << 20, true) as SharedArrayBuffer;
  const producer = new RingProducer(ring, control);
  const name = "flightlog-redaction-idb";
  const api = serveBrowserWorker(
    { dir: name, store: {}, control, rings: [{ producer: "p.0", buffer: ring }], shared: true },
    (n, options) => IdbStore.open(n, options),
  );
  assert.equal(await api.ready(), null);
  // The encoder the page's logger uses: redaction happens before the ring.
  const enc = new Encoder(undefined, getRedactor({ patterns: true }));
  const needles: string[] = [];
  let seq = 0;
  for (const p of fc.sample(plantArb, { numRuns: 40, seed: 4 })) {
    const { canary, value, text, needles: n } = build(p);
    needles.push(...n);
    const flow_id = `idb-${seq}`;
    const err = Object.assign(new Error(text), { [p.key]: canary });
    for (
      const fields of [
        { flow_id, payload: value },
        { flow_id, [text]: 1, seen: new Map([[text, value]]) },
        { flow_id, error: err, [p.key]: canary },
      ]
    ) {
      const len = enc.encode(++seq, 1000 + seq, 9, 0, text, fields);
      assert.ok(producer.write(enc.buf, len), "the ring has room");
      producer.publish(seq, 0);
    }
  }
  producer.wake();
  await api.flush(true);
  try {
    assert.equal(producer.counters().persisted, seq);
    const page = await api.query({ limit: 1000 });
    assert.equal(page.events.length, seq);
    assert.equal(findCanary(page.events, needles), null, "canary in query results");
    assert.equal(findCanary(await api.getFlowLog("idb-1"), needles), null, "canary in a flow log");
  } finally {
    await api.close();
  }
  // Every record of every object store, as IndexedDB holds it.
  const db = await openDB(name);
  try {
    const records: unknown[] = [];
    for (const store of db.objectStoreNames) records.push(...await db.getAll(store));
    assert.ok(records.length > 0, "IndexedDB holds records");
    assert.equal(findCanary(records, needles), null, "canary in IndexedDB");
  } finally {
    db.close();
  }
});
