/**
 * The flow log of a flow without events, written out field by field: what a
 * query of an unknown flow must answer.
 *
 * @module
 */
import type { FlowLog, FlowSummary } from "../../src/query/types.ts";

/** A summary of no events: no time range, every count and total zero. */
export function emptyFlowSummary(): FlowSummary {
  return {
    first_ts_ms: null,
    last_ts_ms: null,
    duration_ms: 0,
    event_count: 0,
    error_count: 0,
    by_level: {},
    by_event: {},
    provider_calls: 0,
    input_tokens: 0,
    output_tokens: 0,
    total_tokens: 0,
    cost_usd: 0,
  };
}

/** The flow log of `flowId` when no event of it is stored. */
export function emptyFlowLog(flowId: string): FlowLog {
  return { flow_id: flowId, events: [], spans: [], summary: emptyFlowSummary() };
}
