/**
 * The workload flightlog is measured on, everywhere: one step of an agent
 * flow, seven correlation ids bound once with `child()` and two fields per
 * call ({@linkcode STEP_BOUND}). `measureOverhead()` runs it on the user's
 * machine and `bench/` (the gate, the peer comparison, the `Deno.bench`
 * files) runs the same one, so that their figures compare.
 *
 * @module
 */
import { CORRELATION_FIELDS } from "../event.ts";

/** The event name of every benchmarked call. */
export const EVENT = "step_end";

/**
 * The per-call fields. A fresh object per call, as a real call site builds
 * one, so no logger can profit from seeing the same object twice.
 */
export function callFields(i: number): { duration_ms: number; status: string } {
  return { duration_ms: 12.5 + (i & 1023), status: "ok" };
}

/**
 * The fields of call `i` with the seven ids inline, as a call site without a
 * child logger writes them: a fresh object literal per call.
 */
export function inlineFields(i: number): Record<string, unknown> {
  return {
    flow_id: "f-7c1e2a90",
    run_id: "r-20261122-0042",
    job_id: "j-318",
    step_id: "fetch_docs",
    step_type: "http",
    node: "retriever",
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    duration_ms: 12.5 + (i & 1023),
    status: "ok",
  };
}

/**
 * The fields of call `i` of {@linkcode STEP_INLINE}: seven fields inline, one
 * of them a string built per call and one a float, as a call site without a
 * child logger writes them. Not {@linkcode inlineFields} (nine fields, all
 * strings constant), whose figures keep their meaning.
 */
export function stepInlineFields(i: number): Record<string, unknown> {
  return {
    flow_id: "f-7c1e2a90",
    run_id: "r-20261122-0042",
    job_id: "j-318",
    step_id: "step-" + i,
    step_type: "http",
    duration_ms: 12.5 + (i & 1023),
    status: "ok",
  };
}

/** The id fields of {@linkcode inlineFields}: the first seven correlation fields. */
const ID_KEYS = CORRELATION_FIELDS.slice(0, 7);

/**
 * The seven correlation fields bound once per flow step with `child()`: the
 * ids {@linkcode inlineFields} writes inline, taken from one call so that the
 * two workloads carry the same values.
 */
export const BINDINGS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(ID_KEYS.map((k) => [k, String(inlineFields(0)[k])])),
);

/** A logging workload as data: what a peer comparison runs for every logger. */
export interface Workload {
  /** Names the workload in a report, e.g. "7 bound ids + 2 call fields". */
  readonly label: string;
  /** The event name of every call. */
  readonly event: string;
  /** Bound once with `child()` (LogTape: `with()`) before the calls; none: the root logger logs. */
  readonly bindings: Readonly<Record<string, string>>;
  /** The fields of call `i`: a fresh object per call. */
  readonly fields: (i: number) => Record<string, unknown>;
}

/** The workload of the gate, of `measureOverhead()` and of every figure in docs/performance.md. */
export const STEP_BOUND: Workload = {
  label: "7 bound ids + 2 call fields",
  event: EVENT,
  bindings: BINDINGS,
  fields: callFields,
};

/**
 * Seven fields inline on the root logger, no `child()`: one step's ids, a
 * per-call `step_id` and a float duration ({@linkcode stepInlineFields}). Its
 * record takes 168 ring bytes, against 68 for {@linkcode STEP_BOUND}.
 */
export const STEP_INLINE: Workload = {
  label: "7 inline fields (per-call step_id, float), no child",
  event: EVENT,
  bindings: {},
  fields: stepInlineFields,
};

/** The `q` quantile of `xs` by linear interpolation between its two nearest samples (sorts `xs` in place). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  xs.sort((a, b) => a - b);
  const at = (xs.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return xs[lo]! + (xs[hi]! - xs[lo]!) * (at - lo);
}
