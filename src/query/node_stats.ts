/**
 * Per-node statistics over a store's events: where a flow's time, tokens and
 * errors go across runs (`log.nodeStats()`, `flightlog nodes`).
 *
 * A node is a step (one row per `step_id` and `step_type`, from its
 * `step_end` events) or an `observable()` node (one row per `node` and
 * `category`, from its `node_exit` and `node_error` events), within one flow
 * (`flow_id`, or none). Each of those events is one execution. Durations go
 * into a {@linkcode DurationSketch} per node, so percentiles come within 1%
 * and memory is bounded by the number of nodes, not of events or runs. The
 * {@linkcode NodeStatsAccumulator} is fed events in any order, one record at
 * a time, and two of them merge; {@linkcode scanNodeStats} feeds one the
 * records of a store's index a window at a time.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { SEVERITY } from "../level.ts";
import { DurationSketch } from "./duration_sketch.ts";
import { compileFilter, compileGlob } from "./filter.ts";
import type { RecordSummary } from "./record.ts";
import type { QueryFilter } from "./types.ts";
import type { QueryIndex, RecordLoader } from "./search.ts";

/** The criteria of {@linkcode NodeStatsAccumulator}: those of `query()` that apply to nodes. */
export interface NodeStatsFilter {
  /** Only events whose `fields.flow_id` equals this. */
  flow_id?: string;
  /** Only events whose `fields.run_id` equals this, or one of these (the last runs of a flow). */
  run_id?: string | readonly string[];
  /** Node name glob (`*` any run of characters, `?` one), matched against a step's `step_id` or a node's `node`. */
  node?: string;
  /**
   * Only end events whose `fields.category` is this category or below it by
   * dot-separated parts, as in `query()`: `"llm"` matches an `observable()`
   * node of category `llm.openai`.
   */
  category?: string;
  /** Inclusive lower bound on `ts_ms` of the end events. */
  since_ms?: number;
  /** Exclusive upper bound on `ts_ms` of the end events. */
  until_ms?: number;
}

/** One node's statistics (see the fields for how each is counted). */
export interface NodeStatsRow {
  /** The flow, or null for events without a string `flow_id`. */
  flow_id: string | null;
  /** `step` (from `step_end`) or `node` (from `observable()`'s `node_exit` / `node_error`). */
  kind: "step" | "node";
  /** The `step_id` of a step, the `node` of an observable node. */
  name: string;
  /** A step's `step_type`, else null. */
  step_type: string | null;
  /** An observable node's `category`, else null. */
  category: string | null;
  /** Executions: end events. */
  count: number;
  /** Executions with `status: "ok"` (every `node_exit`). */
  ok: number;
  /** Executions with `status: "failed"` (every `node_error`). */
  failed: number;
  /** Steps ended `skipped`. */
  skipped: number;
  /** Steps ended `cancelled`. */
  cancelled: number;
  /** Median `duration_ms`, within 1%; null when no execution has one. */
  p50: number | null;
  /** 90th percentile, within 1%; null when no execution has one. */
  p90: number | null;
  /** 99th percentile, within 1%; null when no execution has one. */
  p99: number | null;
  /** Longest `duration_ms` (exact); null when no execution has one. */
  max: number | null;
  /** Sum of `duration_ms` (exact). */
  total_ms: number;
  /** Sum of input tokens: `usage.input_tokens` of a node, `input_tokens` of a `step_end`. */
  tokens_in: number;
  /** Sum of output tokens: `usage.output_tokens` of a node, `output_tokens` of a `step_end`. */
  tokens_out: number;
  /** Sum of `usage.cost_usd` of a node, `cost_usd` of a `step_end`. */
  cost_usd: number;
  /**
   * `total_ms` over the flow's wall time: the summed `duration_ms` of the
   * flow's `run_end` events that the filter's flow, run and time criteria
   * match. Null without a flow or a matching `run_end`. Nested nodes (a node
   * inside a step) each count their whole time, and concurrent executions
   * add up, so shares of a flow may sum past 1.
   */
  wall_share: number | null;
}

/** A node's row together with its duration sketch (for histograms and comparisons). */
export interface NodeStatsEntry {
  /** The row, as `rows()` gives it. */
  row: NodeStatsRow;
  /** The durations of its executions that have one. */
  durations: DurationSketch;
}

type Status = "ok" | "failed" | "skipped" | "cancelled";

/** A node's sums: what two accumulators add up when they merge. */
const COUNTERS = [
  "count",
  "ok",
  "failed",
  "skipped",
  "cancelled",
  "tokensIn",
  "tokensOut",
  "costUsd",
] as const;

interface NodeAggregate extends Record<(typeof COUNTERS)[number], number> {
  flowId: string | null;
  kind: "step" | "node";
  name: string;
  tag: string | null;
  durations: DurationSketch;
}

const FILTER_KEYS: readonly string[] = [
  "flow_id",
  "run_id",
  "node",
  "category",
  "since_ms",
  "until_ms",
];

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/**
 * Statistics per node over the events offered to it. Throws a `TypeError` /
 * `RangeError` for an invalid filter, naming the key and what is accepted.
 *
 * @example Two runs of one step
 * ```ts
 * import { NodeStatsAccumulator } from "./node_stats.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number, event: string, fields: Record<string, unknown>) => ({
 *   ts_ms, level: "info" as const, severity: 9, event, producer: "p.1", seq: ts_ms,
 *   fields: { flow_id: "f", ...fields },
 * });
 * const stats = new NodeStatsAccumulator({ flow_id: "f" });
 * stats.offer([
 *   event(1, "step_end", { run_id: "r1", step_id: "fetch", status: "ok", duration_ms: 30 }),
 *   event(2, "run_end", { run_id: "r1", status: "ok", duration_ms: 100 }),
 *   event(3, "step_end", { run_id: "r2", step_id: "fetch", status: "failed", duration_ms: 10 }),
 *   event(4, "run_end", { run_id: "r2", status: "failed", duration_ms: 100 }),
 * ]);
 * const [fetch] = stats.rows();
 * assert.equal(fetch?.count, 2);
 * assert.equal(fetch?.failed, 1);
 * assert.equal(fetch?.total_ms, 40);
 * assert.equal(fetch?.wall_share, 0.2);
 * ```
 */
export class NodeStatsAccumulator {
  /** Inclusive lower bound on `ts_ms` (-Infinity without one). */
  readonly sinceMs: number;
  /** Exclusive upper bound on `ts_ms` (Infinity without one). */
  readonly untilMs: number;
  /** The `flow_id` criterion, if any. */
  readonly flowId: string | undefined;
  readonly #matches: (event: LogEvent) => boolean;
  readonly #wallMatches: (event: LogEvent) => boolean;
  readonly #matchName: ((name: string) => boolean) | null;
  /**
   * Nodes by name, each list told apart by flow, kind and tag: no key string
   * built per event (bench/node_stats_bench.ts).
   */
  readonly #nodes = new Map<string, NodeAggregate[]>();
  #size = 0;
  /** Summed `run_end` durations per flow. */
  readonly #wall = new Map<string, number>();

  /** Starts counting the events that `filter` matches. */
  constructor(filter: NodeStatsFilter = {}) {
    if (typeof filter !== "object" || filter === null || Array.isArray(filter)) {
      throw new TypeError(
        `Node stats filter must be an object, got ${filter === null ? "null" : typeof filter}`,
      );
    }
    for (const key of Object.keys(filter)) {
      if (!FILTER_KEYS.includes(key)) {
        throw new TypeError(
          `Unknown node stats filter key ${JSON.stringify(key)}: use ${FILTER_KEYS.join(", ")}`,
        );
      }
    }
    const { node, category, run_id: runId, ...rest } = filter;
    const runs = runSet(runId);
    // A single run id (or a wrong type) is checked and matched by compileFilter().
    const window: QueryFilter = runs === null && runId !== undefined
      ? { ...rest, run_id: runId as string }
      : rest;
    // The criteria query() has too are checked, reported and matched as query() does.
    const compiled = compileFilter(category === undefined ? window : { ...window, category });
    this.sinceMs = compiled.sinceMs;
    this.untilMs = compiled.untilMs;
    this.flowId = compiled.flowId;
    const inRuns = (e: LogEvent) => runs!.has(e.fields.run_id as string);
    const withRuns = (m: (e: LogEvent) => boolean) =>
      runs === null ? m : (e: LogEvent) => m(e) && inRuns(e);
    this.#matches = withRuns(compiled.matches);
    // A run's wall time counts whatever the category of its run_end.
    this.#wallMatches = category === undefined
      ? this.#matches
      : withRuns(compileFilter(window).matches);
    this.#matchName = globMatcher("node", node);
  }

  /** Nodes counted so far: the number of sketches held, which bounds memory. */
  get size(): number {
    return this.#size;
  }

  /** False when no event with timestamps in [minTs, maxTs] can count. */
  mayHold(minTs: number, maxTs: number): boolean {
    return !(maxTs < this.sinceMs || minTs >= this.untilMs);
  }

  /** Counts the matching end events among `events`, in any order. */
  offer(events: readonly LogEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const name = event.event;
      let kind: "step" | "node";
      if (name === "step_end") kind = "step";
      else if (name === "node_exit" || name === "node_error") kind = "node";
      else if (name === "run_end") {
        this.#offerRunEnd(event);
        continue;
      } else continue;
      const fields = event.fields;
      const nodeName = kind === "step" ? fields.step_id : fields.node;
      if (typeof nodeName !== "string") continue;
      if (!this.#matches(event)) continue;
      if (this.#matchName !== null && !this.#matchName(nodeName)) continue;
      const flow = typeof fields.flow_id === "string" ? fields.flow_id : null;
      const rawTag = kind === "step" ? fields.step_type : fields.category;
      const tag = typeof rawTag === "string" ? rawTag : null;
      const node = this.#node(flow, kind, nodeName, tag);
      node.count++;
      const status = name === "node_exit"
        ? "ok"
        : name === "node_error"
        ? "failed"
        : statusOf(fields.status, event.severity);
      node[status]++;
      const duration = fields.duration_ms;
      if (typeof duration === "number" && duration >= 0 && duration < Infinity) {
        node.durations.add(duration);
      }
      const usage = kind === "node" ? fields.usage : fields;
      if (typeof usage === "object" && usage !== null) {
        const u = usage as Record<string, unknown>;
        node.tokensIn += num(u.input_tokens);
        node.tokensOut += num(u.output_tokens);
        node.costUsd += num(u.cost_usd);
      }
    }
  }

  /** Adds everything `other` counted (it must have the same filter). */
  merge(other: NodeStatsAccumulator): void {
    for (const list of other.#nodes.values()) {
      for (const theirs of list) {
        const mine = this.#node(theirs.flowId, theirs.kind, theirs.name, theirs.tag);
        for (const key of COUNTERS) mine[key] += theirs[key];
        mine.durations.merge(theirs.durations);
      }
    }
    for (const [flow, ms] of other.#wall) this.#wall.set(flow, (this.#wall.get(flow) ?? 0) + ms);
  }

  /** The rows, widest cost (`total_ms`) first, then by flow, kind, name and type. */
  rows(): NodeStatsRow[] {
    return this.entries().map((e) => e.row);
  }

  /** The rows with their duration sketches, in {@linkcode NodeStatsAccumulator.rows} order. */
  entries(): NodeStatsEntry[] {
    const out: NodeStatsEntry[] = [];
    for (const n of [...this.#nodes.values()].flat()) {
      const d = n.durations;
      const timed = d.count > 0;
      const wall = n.flowId === null ? undefined : this.#wall.get(n.flowId);
      out.push({
        row: {
          flow_id: n.flowId,
          kind: n.kind,
          name: n.name,
          step_type: n.kind === "step" ? n.tag : null,
          category: n.kind === "node" ? n.tag : null,
          count: n.count,
          ok: n.ok,
          failed: n.failed,
          skipped: n.skipped,
          cancelled: n.cancelled,
          p50: timed ? d.quantile(0.5) : null,
          p90: timed ? d.quantile(0.9) : null,
          p99: timed ? d.quantile(0.99) : null,
          max: timed ? d.max : null,
          total_ms: d.sum,
          tokens_in: n.tokensIn,
          tokens_out: n.tokensOut,
          cost_usd: n.costUsd,
          wall_share: wall === undefined || wall <= 0 ? null : d.sum / wall,
        },
        durations: d,
      });
    }
    return out.sort((a, b) => b.row.total_ms - a.row.total_ms || compareIdentity(a.row, b.row));
  }

  #offerRunEnd(event: LogEvent): void {
    const fields = event.fields;
    const flow = fields.flow_id;
    const duration = fields.duration_ms;
    if (typeof flow !== "string" || typeof duration !== "number") return;
    if (!(duration >= 0 && duration < Infinity)) return;
    if (!this.#wallMatches(event)) return;
    this.#wall.set(flow, (this.#wall.get(flow) ?? 0) + duration);
  }

  #node(flow: string | null, kind: "step" | "node", name: string, tag: string | null) {
    let list = this.#nodes.get(name);
    if (list === undefined) this.#nodes.set(name, list = []);
    for (let i = 0; i < list.length; i++) {
      const n = list[i]!;
      if (n.flowId === flow && n.kind === kind && n.tag === tag) return n;
    }
    const node = {
      flowId: flow,
      kind,
      name,
      tag,
      durations: new DurationSketch(),
    } as NodeAggregate;
    for (const key of COUNTERS) node[key] = 0;
    list.push(node);
    this.#size++;
    return node;
  }
}

/** Most records read at once by {@linkcode scanNodeStats}. */
export const SCAN_WINDOW_RECORDS = 64;

/**
 * Most events decoded at once by {@linkcode scanNodeStats}, unless one record
 * holds more (a record holds one drained batch, at most 1,024): the events
 * held at a time stay bounded whatever the store holds, and they die young.
 * A window of 64 records of 1,000 events made a scan of 1,000,000 events take
 * 0.7–0.9 s against 0.45 s for this bound, most of the difference in the
 * garbage collector (bench/node_stats_bench.ts).
 */
export const SCAN_WINDOW_EVENTS = 1_024;

/**
 * Computes node statistics over `index`: reads through `load`, a window of
 * at most {@linkcode SCAN_WINDOW_RECORDS} records and
 * {@linkcode SCAN_WINDOW_EVENTS} events at a time, every record whose time
 * bounds allow a match (a `flow_id` reads that flow's records alone), and
 * keeps nothing of them but the per-node aggregates.
 *
 * @example Statistics over an index held in memory
 * ```ts
 * import { scanNodeStats } from "./node_stats.ts";
 * import assert from "node:assert/strict";
 * const event = (seq: number, duration_ms: number) => ({
 *   ts_ms: seq, level: "info" as const, severity: 9, event: "node_exit", producer: "p.1", seq,
 *   fields: { node: "complete", duration_ms },
 * });
 * const record = (seq: number, ms: number) => ({
 *   seq, eventCount: 1, errorCount: 0, maxSeverity: 9, minTs: seq, maxTs: seq,
 *   events: [event(seq, ms)],
 * });
 * const records = [record(1, 10), record(2, 20), record(3, 30)];
 * const index = {
 *   segments: [{ minTs: 1, maxTs: 3, maxSeverity: 9, records }],
 *   flowRecords: () => null,
 * };
 * const stats = scanNodeStats(index, (rs) => rs.map((r) => [r, r.events] as const), {});
 * assert.equal(stats.rows()[0]?.total_ms, 60);
 * ```
 */
export function scanNodeStats<R extends RecordSummary>(
  index: QueryIndex<R>,
  load: RecordLoader<R>,
  filter: NodeStatsFilter,
): NodeStatsAccumulator {
  const stats = new NodeStatsAccumulator(filter);
  const mayHold = (r: RecordSummary) => stats.mayHold(r.minTs, r.maxTs);
  const flowRecords = stats.flowId === undefined ? null : index.flowRecords(stats.flowId);
  const lists = flowRecords !== null
    ? [flowRecords]
    : index.segments.filter((s) => stats.mayHold(s.minTs, s.maxTs)).map((s) => s.records);
  for (const records of lists) {
    const candidates = records.filter(mayHold).sort((a, b) => a.seq - b.seq);
    let from = 0;
    while (from < candidates.length) {
      let to = from + 1;
      let events = candidates[from]!.eventCount;
      while (
        to < candidates.length && to - from < SCAN_WINDOW_RECORDS &&
        events + candidates[to]!.eventCount <= SCAN_WINDOW_EVENTS
      ) {
        events += candidates[to++]!.eventCount;
      }
      for (const [, recordEvents] of load(candidates.slice(from, to))) stats.offer(recordEvents);
      from = to;
    }
  }
  return stats;
}

function statusOf(status: unknown, severity: number): Status {
  if (status === "ok" || status === "failed" || status === "skipped" || status === "cancelled") {
    return status;
  }
  // No known status recorded: an error-level end is a failure.
  return severity >= SEVERITY.error ? "failed" : "ok";
}

/** The runs of a list `run_id`, or null for a single one (matched as query() does) or none. */
function runSet(runId: unknown): ReadonlySet<unknown> | null {
  if (!Array.isArray(runId)) return null;
  if (!runId.every((r) => typeof r === "string")) {
    throw new TypeError(
      "Node stats filter run_id must be a run id string or an array of them, got an array holding another value",
    );
  }
  return new Set(runId);
}

function globMatcher(key: string, glob: unknown): ((value: string) => boolean) | null {
  if (glob === undefined) return null;
  if (typeof glob !== "string") {
    throw new TypeError(
      `Node stats filter ${key} must be a glob string such as "fetch*", got ${
        glob === null ? "null" : typeof glob
      }`,
    );
  }
  if (glob === "*") return () => true;
  if (!glob.includes("*") && !glob.includes("?")) return (value) => value === glob;
  const regex = compileGlob(glob);
  return (value) => regex.test(value);
}

function compareIdentity(a: NodeStatsRow, b: NodeStatsRow): number {
  return compareText(a.flow_id, b.flow_id) || compareText(a.kind, b.kind) ||
    compareText(a.name, b.name) ||
    compareText(a.step_type ?? a.category, b.step_type ?? b.category);
}

function compareText(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}
