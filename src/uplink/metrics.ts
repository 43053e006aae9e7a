/**
 * The uplink's self-metrics as Prometheus samples: the hook for the metrics
 * registry (built in parallel), which renders them with its own families.
 * Names follow the Prometheus conventions: `_total` counters, base units
 * (bytes, seconds).
 *
 * @module
 */
import type { UplinkStats } from "./options.ts";

/** One sample of an uplink metric. */
export interface UplinkMetric {
  /** Metric name, `flightlog_uplink_*`. */
  name: string;
  /** Prometheus type. */
  type: "counter" | "gauge";
  /** One-line help text. */
  help: string;
  /** The value. */
  value: number;
}

/**
 * The samples of `stats`, in a stable order.
 *
 * @example Counters and gauges
 * ```ts
 * import { uplinkMetrics } from "./metrics.ts";
 * import assert from "node:assert/strict";
 * const metrics = uplinkMetrics({
 *   sent: 10, failed: 1, retried: 1, rejected: 0, dead_lettered: 0, evicted: 0,
 *   backlog_bytes: 0, backlog_events: 0, last_success_ms: 1_700_000_000_000, offline: 0,
 *   requests: 2, bytes_sent: 900,
 * });
 * const sent = metrics.find((m) => m.name === "flightlog_uplink_sent_total");
 * assert.equal(sent?.value, 10);
 * assert.equal(metrics.find((m) => m.name.endsWith("last_success_timestamp_seconds"))?.value, 1_700_000_000);
 * ```
 */
export function uplinkMetrics(stats: UplinkStats): UplinkMetric[] {
  const counter = (name: string, help: string, value: number): UplinkMetric => ({
    name: `flightlog_uplink_${name}_total`,
    type: "counter",
    help,
    value,
  });
  const gauge = (name: string, help: string, value: number): UplinkMetric => ({
    name: `flightlog_uplink_${name}`,
    type: "gauge",
    help,
    value,
  });
  return [
    counter("sent", "Log records and spans acknowledged by the receiver.", stats.sent),
    counter("failed", "Delivery attempts that failed.", stats.failed),
    counter(
      "retried",
      "Delivery attempts scheduled again after a retryable failure.",
      stats.retried,
    ),
    counter("rejected", "Items refused in partial successes (not retried).", stats.rejected),
    counter("dead_lettered", "Items moved to the dead-letter area.", stats.dead_lettered),
    counter("evicted", "Unsent events evicted before delivery.", stats.evicted),
    counter("requests", "Requests sent.", stats.requests),
    counter("sent_bytes", "Request body bytes sent, after compression.", stats.bytes_sent),
    gauge("backlog_bytes", "Stored bytes not yet acknowledged.", stats.backlog_bytes),
    gauge("backlog_events", "Stored events not yet acknowledged.", stats.backlog_events),
    gauge(
      "last_success_timestamp_seconds",
      "Time of the last acknowledged request (0 before the first).",
      stats.last_success_ms / 1000,
    ),
    gauge("offline", "1 while the receiver is unreachable or asks to retry.", stats.offline),
  ];
}
