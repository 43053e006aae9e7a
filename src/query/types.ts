/**
 * Query filters and flow-log result types.
 *
 * @module
 */
import type { LevelName } from "../level.ts";
import type { LogEvent } from "../event.ts";
import type { SpanKind } from "../span_kind.ts";

/** A filter for {@linkcode Logger.query}. Every given criterion must match. */
export interface QueryFilter {
  /** Only events whose `fields.flow_id` equals this. */
  flow_id?: string;
  /** Only events whose `fields.run_id` equals this. */
  run_id?: string;
  /** Minimum level (inclusive). */
  level?: LevelName;
  /** Event name glob: `*` matches any run of characters, `?` one character. */
  event?: string;
  /** Node glob, matched against `fields.node` (same syntax as `event`). */
  node?: string;
  /**
   * Only events whose `fields.category` is this category or below it by
   * dot-separated parts: `"my-lib"` matches `my-lib` and `my-lib.db`, not
   * `my-library` (the category of a `getLogger()` logger).
   */
  category?: string;
  /** Inclusive lower bound on `ts_ms`. */
  since_ms?: number;
  /** Exclusive upper bound on `ts_ms`. */
  until_ms?: number;
  /** Field equality: each key must equal (`===`) the event's field of that name. */
  where?: Record<string, string | number | boolean | null>;
  /**
   * Maximum number of events in one page.
   * @default {1000}
   */
  limit?: number;
  /** Cursor from a previous page's `cursor`, to continue after it. */
  cursor?: string;
}

/** One page of query results, in timestamp order. */
export interface QueryPage {
  /** The matching events of this page, in timestamp order. */
  events: LogEvent[];
  /** Pass as `filter.cursor` to get the next page; `null` when there is none. */
  cursor: string | null;
}

/** A span of a flow, built from events that share a `span_id`. */
export interface SpanNode {
  /** The `span_id` its events share. */
  span_id: string;
  /** The first `parent_id` seen on its events, or null. */
  parent_id: string | null;
  /** `fields.node`, else `fields.step_id`, `fields.job_id`, `fields.run_id`, else the first event's name. */
  name: string;
  /**
   * What it stands for: the kind its first `run_*`, `job_*`, `step_*` or
   * `node_*` event marks (`run`, `job`, `step`, `node`), else `span`.
   */
  kind: SpanKind;
  /** For a step: the first `fields.step_type` of its events; else null. */
  step_type: string | null;
  /** Timestamp of its first event. */
  start_ms: number;
  /** Timestamp of its last event. */
  end_ms: number;
  /** `end_ms - start_ms`. */
  duration_ms: number;
  /**
   * "error" when any of its events is at error level or above or has
   * `status: "failed"`; else "skipped" or "cancelled" when its last
   * `run_end` / `job_end` / `step_end` says so; else "ok".
   */
  status: "ok" | "error" | "skipped" | "cancelled";
  /** Indexes into {@linkcode FlowLog.events}. */
  events: number[];
  /** Spans whose `parent_id` is this span. */
  children: SpanNode[];
}

/** Aggregates over one flow's events. */
export interface FlowSummary {
  /** Timestamp of the first event, or null for an unknown flow. */
  first_ts_ms: number | null;
  /** Timestamp of the last event, or null for an unknown flow. */
  last_ts_ms: number | null;
  /** `last_ts_ms - first_ts_ms` (0 for an unknown flow). */
  duration_ms: number;
  /** Number of events. */
  event_count: number;
  /** Events at error level or above. */
  error_count: number;
  /** Events per level. */
  by_level: Partial<Record<LevelName, number>>;
  /** Events per event name. */
  by_event: Record<string, number>;
  /** Provider calls recorded (events with a `usage` object, e.g. `node_exit` of a provider call). */
  provider_calls: number;
  /** Sum of `usage.input_tokens`. */
  input_tokens: number;
  /** Sum of `usage.output_tokens`. */
  output_tokens: number;
  /** Sum of `usage.total_tokens` (input + output when absent). */
  total_tokens: number;
  /** Sum of `usage.cost_usd`. */
  cost_usd: number;
}

/** Everything recorded for one flow. */
export interface FlowLog {
  /** The flow id asked for. */
  flow_id: string;
  /** The flow's events in timestamp order (ties broken by producer, then seq). */
  events: LogEvent[];
  /** Root spans (those without a known parent), each with its children. */
  spans: SpanNode[];
  /** Aggregates over the flow's events. */
  summary: FlowSummary;
}
