/**
 * A flow log sent across threads as the store's msgpackr payloads instead of
 * events: a worker answering `getFlowLog()` from IndexedDB posts the flow's
 * record payloads, and the caller's thread unpacks them and builds the flow
 * log. Structured clone of 10,000 events cost 30–120 ms on Chromium's main
 * thread; unpacking their payloads a few (bench/browser_bench.ts).
 *
 * @module
 */
import type { FlowLog } from "../query/types.ts";
import type { LogEvent } from "../event.ts";
import { buildFlowLog, compareEvents } from "../query/flow_log.ts";
import { unpackEvents } from "../store/payload_codec.ts";

/** A flow's record payloads (`packEvents` format), in any order. */
export interface PackedFlowLog {
  /** Always `"flightlog-packed-flow-log"`. */
  kind: "flightlog-packed-flow-log";
  /** The flow id asked for. */
  flow_id: string;
  /** One payload per stored record of the flow. */
  payloads: Uint8Array[];
}

/** True for a {@linkcode PackedFlowLog}, false for a {@linkcode FlowLog}. */
export function isPackedFlowLog(value: FlowLog | PackedFlowLog): value is PackedFlowLog {
  return (value as PackedFlowLog).kind === "flightlog-packed-flow-log";
}

/**
 * Unpacks the payloads and builds the flow log.
 *
 * @example Round trip
 * ```ts
 * import { unpackFlowLog } from "./packed_flow_log.ts";
 * import { packEvents } from "../store/payload_codec.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number) => ({
 *   ts_ms, level: "info" as const, severity: 9, event: "e", producer: "p.1", seq: ts_ms,
 *   fields: { flow_id: "f" },
 * });
 * const log = unpackFlowLog({
 *   kind: "flightlog-packed-flow-log",
 *   flow_id: "f",
 *   payloads: [packEvents([event(2)]).slice(), packEvents([event(1)]).slice()],
 * });
 * assert.deepEqual(log.events.map((e) => e.ts_ms), [1, 2]);
 * ```
 */
export function unpackFlowLog(packed: PackedFlowLog): FlowLog {
  const events: LogEvent[] = [];
  for (const payload of packed.payloads) {
    const got = unpackEvents(payload);
    for (let i = 0; i < got.length; i++) events.push(got[i]!);
  }
  events.sort(compareEvents);
  return buildFlowLog(packed.flow_id, events);
}
