import assert from "node:assert/strict";
import type { LogEvent } from "../../src/event.ts";
import { compareEvents } from "../../src/query/flow_log.ts";
import { LEVELS, SEVERITY } from "../../src/level.ts";
import type { QueryFilter, QueryPage } from "../../src/query/types.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { manualClock, recordingFs } from "./_helpers.ts";
import { makeEvent } from "../support/log_event.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { emptyFlowLog } from "../support/empty_flow_log.ts";

const OPTIONS = { maxAgeMs: Infinity, segmentBytes: 4096 };
const NAMES = ["run_start", "step_start", "step_end", "run_end", "tool.call"];
const NODES = ["retriever", "ranker", "writer"];

/** A varied, deterministic workload: 12 flows, levels, nodes, out-of-order ts, equal ts. */
function workload(count: number, from = 0): LogEvent[] {
  const events: LogEvent[] = [];
  for (let i = from; i < from + count; i++) {
    const level = LEVELS[(i * 7) % LEVELS.length]!;
    const fields: Record<string, unknown> = {
      run_id: `r${i % 4}`,
      node: NODES[i % NODES.length],
      status: i % 5 === 0 ? "failed" : "ok",
      attempt: i % 3,
    };
    if (i % 13 !== 0) fields.flow_id = `flow-${i % 12}`;
    // Mostly increasing, some late arrivals and many equal timestamps.
    const ts_ms = 10_000 + Math.floor(i / 3) - (i % 17 === 0 ? 40 : 0);
    const event = NAMES[i % NAMES.length]!;
    events.push(makeEvent(ts_ms, fields, { level, event, producer: `p.${i % 3}`, seq: i + 1 }));
  }
  return events;
}

/** What a query must return, computed the slow way. */
function expected(events: LogEvent[], filter: QueryFilter): LogEvent[] {
  const glob = (g: string) => new RegExp(`^${g.replaceAll("*", ".*").replaceAll("?", ".")}$`);
  return events.filter((e) => {
    if (filter.flow_id !== undefined && e.fields.flow_id !== filter.flow_id) return false;
    if (filter.run_id !== undefined && e.fields.run_id !== filter.run_id) return false;
    if (filter.level !== undefined && e.severity < SEVERITY[filter.level]) return false;
    if (filter.event !== undefined && !glob(filter.event).test(e.event)) return false;
    if (filter.node !== undefined && !glob(filter.node).test(String(e.fields.node))) return false;
    if (filter.since_ms !== undefined && e.ts_ms < filter.since_ms) return false;
    if (filter.until_ms !== undefined && e.ts_ms >= filter.until_ms) return false;
    for (const [key, value] of Object.entries(filter.where ?? {})) {
      if (e.fields[key] !== value) return false;
    }
    return true;
  }).sort(compareEvents);
}

function fillStore(dir: string, events: LogEvent[]): SegmentStore {
  const store = SegmentStore.open(dir, OPTIONS);
  for (let i = 0; i < events.length; i += 50) store.append(events.slice(i, i + 50));
  return store;
}

Deno.test("SegmentStore.query() applies each criterion", async () => {
  await withTempDir((dir) => {
    const events = workload(1200);
    const store = fillStore(dir, events);
    const filters: QueryFilter[] = [
      {},
      { flow_id: "flow-3" },
      { flow_id: "nope" },
      { run_id: "r2" },
      { level: "warn" },
      { level: "fatal" },
      { event: "step_*" },
      { event: "run_?nd" },
      { event: "tool.call" },
      { node: "r*" },
      { since_ms: 10_100 },
      { until_ms: 10_050 },
      { since_ms: 10_050, until_ms: 10_060 },
      { where: { status: "failed" } },
      { where: { attempt: 2, status: "ok" } },
      { flow_id: "flow-5", level: "error", node: "*er", since_ms: 10_010 },
    ];
    for (const filter of filters) {
      const page = store.query({ ...filter, limit: 100_000 });
      assert.deepEqual(page.events, expected(events, filter), JSON.stringify(filter));
      assert.equal(page.cursor, null);
      // Small pages stop reading early; together they must give the same events.
      for (const limit of [1, 7, 250]) {
        const paged: LogEvent[] = [];
        let cursor: string | null = null;
        do {
          const next: QueryPage = store.query(
            cursor === null ? { ...filter, limit } : { ...filter, limit, cursor },
          );
          assert.ok(next.events.length <= limit);
          paged.push(...next.events);
          cursor = next.cursor;
        } while (cursor !== null);
        assert.deepEqual(paged, page.events, `${JSON.stringify(filter)} by ${limit}`);
      }
    }
    store.close();
  });
});

Deno.test("SegmentStore.query() orders equal timestamps by producer, then seq", async () => {
  await withTempDir((dir) => {
    const store = SegmentStore.open(dir, OPTIONS);
    store.append([
      makeEvent(5, {}, { producer: "b", seq: 1 }),
      makeEvent(5, {}, { producer: "a", seq: 9 }),
      makeEvent(4, {}, { producer: "z", seq: 1 }),
    ]);
    store.append([makeEvent(5, {}, { producer: "a", seq: 2 })]);
    const page = store.query({});
    assert.deepEqual(page.events.map((e) => `${e.ts_ms}${e.producer}${e.seq}`), [
      "4z1",
      "5a2",
      "5a9",
      "5b1",
    ]);
    store.close();
  });
});

Deno.test("SegmentStore.query() defaults limit to 1000 and validates the filter", async () => {
  await withTempDir((dir) => {
    const store = fillStore(dir, workload(1500));
    const page = store.query({});
    assert.equal(page.events.length, 1000);
    assert.notEqual(page.cursor, null);
    assert.throws(() => store.query({ limit: 100_001 }), RangeError);
    assert.throws(() => store.query({ level: "loud" as "info" }), TypeError);
    assert.throws(() => store.query({ cursor: page.cursor!, flow_id: "flow-1" }), RangeError);
    store.close();
  });
});

Deno.test("SegmentStore.query() pages with a cursor while new events arrive", async () => {
  await withTempDir((dir) => {
    const initial = workload(600);
    const store = fillStore(dir, initial);
    const filter: QueryFilter = { level: "debug", limit: 70 };
    const seen: LogEvent[] = [];
    /** Arrivals, each with the last event seen when it was appended. */
    const arrived: { event: LogEvent; after: LogEvent }[] = [];
    let page = store.query(filter);
    let pages = 1;
    seen.push(...page.events);
    while (page.cursor !== null && pages < 200) {
      // Between pages: later events, late events (before the cursor) and equal timestamps.
      const more = workload(30, 600 + arrived.length);
      const late = more.map((e, i) => (i % 10 === 0 ? { ...e, ts_ms: 9_000 + i } : e));
      store.append(late);
      for (const event of late) arrived.push({ event, after: seen.at(-1)! });
      page = store.query({ ...filter, cursor: page.cursor });
      pages++;
      seen.push(...page.events);
    }
    assert.ok(pages >= 3, `pages ${pages}`);
    assert.equal(page.cursor, null);
    // Strictly increasing in query order: no event is returned twice or out of order.
    for (let i = 1; i < seen.length; i++) {
      assert.ok(compareEvents(seen[i - 1]!, seen[i]!) < 0, `at ${i}`);
    }
    // Every initial event is seen, and every arrival that sorts after where paging stood when it came.
    const must = [
      ...expected(initial, { level: "debug" }),
      ...arrived
        .filter(({ event, after }) => compareEvents(event, after) > 0)
        .map(({ event }) => event)
        .filter((e) => e.severity >= SEVERITY.debug),
    ].sort(compareEvents);
    const missedLate = arrived.filter(({ event, after }) =>
      compareEvents(event, after) < 0 && event.severity >= SEVERITY.debug
    );
    assert.ok(missedLate.length > 0, "the workload has late arrivals");
    assert.deepEqual(seen, must);
    store.close();
  });
});

Deno.test("SegmentStore.query() for a flow reads only that flow's records", async () => {
  await withTempDir((dir) => {
    const { fs, log } = recordingFs();
    const store = SegmentStore.open(dir, { ...OPTIONS, segmentBytes: 1 << 20, fs });
    const events: LogEvent[] = [];
    for (let i = 0; i < 2000; i++) {
      events.push(makeEvent(i, { flow_id: `flow-${i % 20}`, pad: "x".repeat(50) }, { seq: i + 1 }));
    }
    for (let i = 0; i < events.length; i += 200) store.append(events.slice(i, i + 200));
    log.reads.length = 0;
    const page = store.query({ flow_id: "flow-7", limit: 100_000 });
    assert.equal(page.events.length, 100);
    const readBytes = log.reads.reduce((n, r) => n + r.bytes, 0);
    const totalBytes = store.stats().bytes;
    assert.ok(readBytes < totalBytes / 5, `read ${readBytes} of ${totalBytes}`);
    log.reads.length = 0;
    assert.equal(store.getFlowLog("flow-7").events.length, 100);
    assert.ok(log.reads.reduce((n, r) => n + r.bytes, 0) < totalBytes / 5);
    store.close();
  });
});

Deno.test("SegmentStore.query() keeps at most 32 segment files open", async () => {
  await withTempDir((dir) => {
    const writer = SegmentStore.open(dir, { ...OPTIONS, segmentBytes: 1 });
    for (let i = 0; i < 100; i++) writer.append([makeEvent(i, { flow_id: "f" }, { seq: i + 1 })]);
    writer.close();
    const { fs, log } = recordingFs();
    const store = SegmentStore.open(dir, { ...OPTIONS, fs });
    assert.equal(store.stats().segments, 100);
    assert.equal(store.query({ limit: 1000 }).events.length, 100);
    assert.equal(store.getFlowLog("f").events.length, 100);
    // The lock, the segment appended to, and the read cache.
    assert.ok(log.maxOpen <= 34, `max open ${log.maxOpen}`);
    store.close();
    assert.equal(log.open, 0);
  });
});

Deno.test("SegmentStore.getFlowLog() returns the flow's events, span tree and summary", async () => {
  await withTempDir((dir) => {
    const store = SegmentStore.open(dir, OPTIONS);
    const ev = (ts: number, event: string, fields: Record<string, unknown>, level = "info") =>
      makeEvent(ts, { flow_id: "agent", ...fields }, { event, level: level as "info", seq: ts });
    // Two batches, the second holding an event older than some of the first.
    store.append([
      ev(10, "run_start", { span_id: "run" }),
      ev(12, "step_start", { span_id: "s1", parent_id: "run", node: "search" }),
      makeEvent(13, { flow_id: "other", span_id: "x" }),
      ev(20, "step_end", { span_id: "s1", parent_id: "run", node: "search" }),
    ]);
    store.append([
      ev(15, "tool.call", { span_id: "t1", parent_id: "s1", step_id: "http" }, "error"),
      ev(30, "run_end", { span_id: "run", status: "failed" }),
    ]);
    const log = store.getFlowLog("agent");
    assert.deepEqual(log.events.map((e) => e.ts_ms), [10, 12, 15, 20, 30]);
    assert.equal(log.spans.length, 1);
    const run = log.spans[0]!;
    assert.equal(run.span_id, "run");
    assert.equal(run.status, "error");
    assert.equal(run.duration_ms, 20);
    assert.deepEqual(run.events, [0, 4]);
    const search = run.children[0]!;
    assert.equal(search.name, "search");
    assert.equal(search.status, "ok");
    assert.equal(search.children[0]?.name, "http");
    assert.equal(search.children[0]?.status, "error");
    assert.deepEqual(log.summary, {
      first_ts_ms: 10,
      last_ts_ms: 30,
      duration_ms: 20,
      event_count: 5,
      error_count: 1,
      by_level: { info: 4, error: 1 },
      by_event: { run_start: 1, step_start: 1, "tool.call": 1, step_end: 1, run_end: 1 },
      provider_calls: 0,
      input_tokens: 0,
      output_tokens: 0,
      total_tokens: 0,
      cost_usd: 0,
    });
    store.close();
  });
});

Deno.test("SegmentStore.getFlowLog() of an unknown flow is empty", async () => {
  await withTempDir((dir) => {
    const store = SegmentStore.open(dir, OPTIONS);
    store.append([makeEvent(1, { flow_id: "known" })]);
    assert.deepEqual(store.getFlowLog("unknown"), emptyFlowLog("unknown"));
    assert.throws(() => store.getFlowLog(5 as unknown as string), TypeError);
    store.close();
  });
});

Deno.test("SegmentStore.listFlows() lists flows newest first with counts", async () => {
  await withTempDir((dir) => {
    const store = SegmentStore.open(dir, OPTIONS);
    store.append([
      makeEvent(10, { flow_id: "a" }),
      makeEvent(50, { flow_id: "b" }, { level: "error", severity: 17 }),
      makeEvent(30, { flow_id: "c" }),
      makeEvent(5, {}),
    ]);
    store.append([
      makeEvent(40, { flow_id: "a" }, { level: "fatal", severity: 21 }),
      makeEvent(45, { flow_id: "c" }),
    ]);
    const flows = store.listFlows();
    assert.deepEqual(flows, [
      { flow_id: "b", first_ts_ms: 50, last_ts_ms: 50, event_count: 1, error_count: 1 },
      { flow_id: "c", first_ts_ms: 30, last_ts_ms: 45, event_count: 2, error_count: 0 },
      { flow_id: "a", first_ts_ms: 10, last_ts_ms: 40, event_count: 2, error_count: 1 },
    ]);
    store.close();
    const reopened = SegmentStore.open(dir, { ...OPTIONS, readOnly: true });
    assert.deepEqual(reopened.listFlows(), flows);
    reopened.close();
  });
});

Deno.test("SegmentStore.listFlowPage() leaves out the flows evicted between two pages", async () => {
  const DAY = 24 * 3600 * 1000;
  const clock = manualClock(100 * DAY);
  await withTempDir((dir) => {
    // segmentBytes 1: every append after the first seals the segment before it.
    const store = SegmentStore.open(dir, { maxAgeMs: DAY, clock: clock.now, segmentBytes: 1 });
    store.append([makeEvent(1, { flow_id: "old-a" }), makeEvent(2, { flow_id: "old-b" })]);
    clock.set(100 * DAY + 10);
    store.append([makeEvent(3, { flow_id: "mid" })]);
    store.append([makeEvent(4, { flow_id: "new" })]);
    const first = store.listFlowPage({ limit: 1 });
    assert.deepEqual(first.flows.map((f) => f.flow_id), ["new"]);
    clock.set(101 * DAY + 5); // the first segment is past the age limit at the next append
    store.append([makeEvent(5, { flow_id: "newest" })]);
    assert.equal(store.stats().evicted.segments, 1);
    const second = store.listFlowPage({ limit: 10, cursor: first.cursor! });
    assert.deepEqual([second.flows.map((f) => f.flow_id), second.cursor], [["mid"], null]);
    store.close();
  });
});
