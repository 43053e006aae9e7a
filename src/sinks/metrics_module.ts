/**
 * Loads a metrics sink from a module, as `FLIGHTLOG_METRICS_MODULE` names it:
 * the module exports `METRICS`, an object implementing
 * {@linkcode MetricsSink}.
 *
 * @module
 */
import type { MetricsSink } from "../lifecycle_events.ts";

const CALLBACKS = [
  "onRunStart",
  "onRunEnd",
  "onJobStart",
  "onJobEnd",
  "onStepStart",
  "onStepEnd",
] as const;

/**
 * Checks that `mod` exports `METRICS` with at least one lifecycle callback
 * and only functions under the callback names. Throws a `TypeError` saying
 * what is wrong otherwise.
 *
 * @example A module namespace with a valid sink
 * ```ts
 * import { metricsSinkOf } from "./metrics_module.ts";
 * import assert from "node:assert/strict";
 *
 * const sink = metricsSinkOf({ METRICS: { onRunEnd() {} } }, "my_metrics.ts");
 * assert.equal(typeof sink.onRunEnd, "function");
 * assert.throws(() => metricsSinkOf({}, "my_metrics.ts"), TypeError);
 * ```
 */
export function metricsSinkOf(mod: unknown, where: string): MetricsSink {
  const sink = (mod as { METRICS?: unknown } | null)?.METRICS;
  if (typeof sink !== "object" || sink === null) {
    throw new TypeError(
      `Metrics module ${where} must export METRICS, an object with lifecycle callbacks such as onStepEnd(step, end)`,
    );
  }
  let found = 0;
  for (const name of CALLBACKS) {
    const cb = (sink as Record<string, unknown>)[name];
    if (cb === undefined) continue;
    if (typeof cb !== "function") {
      throw new TypeError(`METRICS.${name} of metrics module ${where} must be a function`);
    }
    found++;
  }
  if (found === 0) {
    throw new TypeError(
      `METRICS of metrics module ${where} has none of ${
        CALLBACKS.join(", ")
      }: implement at least one`,
    );
  }
  return sink as MetricsSink;
}

/** Imports the module at `url` and returns its `METRICS` sink. */
export async function loadMetricsModule(url: string): Promise<MetricsSink> {
  let mod: unknown;
  try {
    mod = await import(url);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new TypeError(
      `Cannot import metrics module ${url}: ${why}; check FLIGHTLOG_METRICS_MODULE (a file path or URL)`,
      { cause: err },
    );
  }
  return metricsSinkOf(mod, url);
}
