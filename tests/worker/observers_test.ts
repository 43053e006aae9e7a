import assert from "node:assert/strict";
import { installObservers, Observers } from "../../src/worker/observers.ts";
import type { LogEvent } from "../../src/event.ts";
import type { MetricsSink } from "../../src/lifecycle_events.ts";
import { Consumer } from "../../src/worker/consumer.ts";
import { MemoryStore } from "../support/memory_store.ts";
import { makeEvent } from "../support/log_event.ts";
import { ringWriter } from "../support/ring_writer.ts";
import { PLAIN_CONSOLE } from "../support/text_line.ts";

function ev(event: string, fields: Record<string, unknown>): LogEvent {
  return makeEvent(0, fields, { event, producer: "p.0", seq: 1 });
}

Deno.test("Observers replays the lifecycle calls made while the metrics module loads", async () => {
  let resolve!: (s: MetricsSink) => void;
  const loading = new Promise<MetricsSink>((r) => (resolve = r));
  const obs = new Observers({ console: null, metrics: { module: "m" } }, () => {}, () => loading);
  obs.observe([ev("run_start", { flow_id: "f", run_id: "r1" })]);
  const seen: string[] = [];
  resolve({ onRunStart: (r) => seen.push(r.run_id) });
  await obs.ready;
  obs.observe([ev("run_start", { flow_id: "f", run_id: "r2" })]);
  assert.deepEqual(seen, ["r1", "r2"]);
});

Deno.test("Observers keeps logging when the metrics module fails, says why once and counts it", async () => {
  const written: string[] = [];
  const obs = new Observers(
    {
      console: null,
      metrics: { module: new URL("../sinks/fixtures/no_metrics_export.ts", import.meta.url).href },
    },
    (stream, text) => written.push(`${stream}:${text}`),
  );
  await obs.ready;
  obs.observe([ev("run_start", { flow_id: "f", run_id: "r" })]);
  assert.match(obs.moduleError ?? "", /must export METRICS/);
  assert.equal(written.length, 1);
  assert.match(written[0]!, /^stderr:flightlog: Metrics module .* must export METRICS/);
  const text = obs.metricsText({ dropped: 0, rings: [] }) ?? "";
  assert.match(text, /^flightlog_metrics_sink_errors_total 1$/m);
  assert.match(text, /^flightlog_events_total\{level="info"\} 1$/m);
});

Deno.test("installObservers() sees only batches the store accepted", () => {
  const writer = ringWriter({ shared: false });
  const store = new MemoryStore();
  const consumer = new Consumer(store, writer.control);
  consumer.addRing("p.0", writer.ring);
  const log = (event: string) => {
    writer.log(event);
    writer.producer.wake();
  };
  let out = "";
  const obs = installObservers(
    consumer,
    {
      console: PLAIN_CONSOLE,
      metrics: null,
    },
    (_s, t) => (out += t),
  );
  assert.ok(obs !== null);
  assert.equal(installObservers(consumer, { console: null, metrics: null }, () => {}), null);
  assert.equal(installObservers(consumer, undefined, () => {}), null);
  log("kept");
  consumer.drain();
  store.failWrites = new Error("EIO");
  log("refused");
  consumer.drain();
  store.failWrites = null;
  consumer.close();
  assert.equal(out, "kept\n");
});

Deno.test("Observers queues at most 10,000 calls while the module loads and counts the rest", async () => {
  let resolve!: (s: MetricsSink) => void;
  const loading = new Promise<MetricsSink>((r) => (resolve = r));
  const obs = new Observers({ console: null, metrics: { module: "m" } }, () => {}, () => loading);
  const starts = Array.from(
    { length: 10_001 },
    (_, i) => ev("run_start", { flow_id: "f", run_id: `r${i}` }),
  );
  obs.observe(starts);
  let seen = 0;
  resolve({ onRunStart: () => seen++ });
  await obs.ready;
  assert.equal(seen, 10_000);
  assert.match(
    obs.metricsText({ dropped: 0, rings: [] }) ?? "",
    /^flightlog_metrics_sink_errors_total 1$/m,
  );
});
