/**
 * An in-memory stand-in for the segment store, for tests of the consumer that
 * should not depend on files. Can be told to fail writes.
 *
 * @module
 */
import type { Store } from "../../src/worker/consumer.ts";
import type { LogEvent } from "../../src/event.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../../src/query/types.ts";
import { type FlowPage, listFlowPage, type ListFlowsOptions } from "../../src/query/flow_list.ts";
import { NodeStatsAccumulator, type NodeStatsFilter } from "../../src/query/node_stats.ts";
import { emptyFlowLog } from "./empty_flow_log.ts";

export class MemoryStore implements Store {
  events: LogEvent[] = [];
  appends = 0;
  syncs = 0;
  closed = false;
  failWrites: Error | null = null;

  append(events: LogEvent[]): void {
    if (this.failWrites !== null) throw this.failWrites;
    this.appends++;
    this.events.push(...events);
  }
  sync(): void {
    this.syncs++;
  }
  query(filter: QueryFilter): QueryPage {
    const events = this.events.filter((e) =>
      filter.flow_id === undefined || e.fields.flow_id === filter.flow_id
    );
    return { events, cursor: null };
  }
  getFlowLog(flowId: string): FlowLog {
    const events = this.events.filter((e) => e.fields.flow_id === flowId);
    const empty = emptyFlowLog(flowId);
    return { ...empty, events, summary: { ...empty.summary, event_count: events.length } };
  }
  /** Each event a record of its own, numbered by its place. */
  listFlowPage(options: ListFlowsOptions | undefined): FlowPage {
    const records = this.events.map((e, i) => ({
      seq: i + 1,
      flowId: typeof e.fields.flow_id === "string" ? e.fields.flow_id : null,
      eventCount: 1,
      errorCount: e.severity >= 17 ? 1 : 0,
      maxSeverity: e.severity,
      minTs: e.ts_ms,
      maxTs: e.ts_ms,
    }));
    const load = (flowIds: readonly string[], snapshot: number) =>
      new Map(flowIds.map((flowId) => [
        flowId,
        this.events.filter((e, i) => i < snapshot && e.fields.flow_id === flowId),
      ]));
    return listFlowPage(records, load, options);
  }
  nodeStats(filter: NodeStatsFilter | undefined): NodeStatsAccumulator {
    const stats = new NodeStatsAccumulator(filter);
    stats.offer(this.events);
    return stats;
  }
  stats(): Record<string, unknown> {
    return { events: this.events.length };
  }
  close(): void {
    this.closed = true;
  }
}
