/**
 * Implicit correlation across `await`: {@linkcode withContext} binds fields
 * (flow, run, job, step, trace and span ids...) for everything a function
 * does, synchronously or asynchronously, and every flightlog logger adds them
 * to its events. Built on `AsyncLocalStorage` (`node:async_hooks`, available
 * in Deno and Node), reached through `process.getBuiltinModule()` so that no
 * `node:` import reaches a browser bundle; where it is missing (browsers),
 * the context holds for the synchronous part of `fn` only.
 *
 * Until the first `withContext()` call a log call pays one boolean check for
 * this feature (bench/context_bench.ts).
 *
 * @module
 */
import {
  formatTraceParent,
  isSpanId,
  isTraceId,
  parseTraceParent,
  traceFlagsOf,
} from "../trace_context.ts";

/** Fields bound by {@linkcode withContext}. */
export type ContextBindings = Record<string, unknown>;

/**
 * One context: the merged bindings of every enclosing `withContext()`. A
 * frame is immutable, so loggers may cache what they derive from it.
 */
export interface ContextFrame {
  /** The merged bindings (inner calls win). Frozen. */
  readonly bindings: Readonly<ContextBindings>;
}

/** The part of `AsyncLocalStorage` used here. */
interface FrameStorage {
  getStore(): ContextFrame | undefined;
  run<R>(frame: ContextFrame, fn: () => R): R;
}

type AlsClass = new () => FrameStorage;

function asyncLocalStorage(): AlsClass | undefined {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process;
    const mod = proc?.getBuiltinModule?.("node:async_hooks") as
      | { AsyncLocalStorage?: AlsClass }
      | undefined;
    return mod?.AsyncLocalStorage;
  } catch {
    return undefined;
  }
}

// Without AsyncLocalStorage: a frame for the synchronous extent of run().
class SyncStorage implements FrameStorage {
  #current: ContextFrame | undefined;
  getStore(): ContextFrame | undefined {
    return this.#current;
  }
  run<R>(frame: ContextFrame, fn: () => R): R {
    const prev = this.#current;
    this.#current = frame;
    try {
      return fn();
    } finally {
      this.#current = prev;
    }
  }
}

const Als = asyncLocalStorage();
const storage: FrameStorage = Als === undefined ? new SyncStorage() : new Als();

/** True when context propagates across `await` (AsyncLocalStorage is available). */
export const CONTEXT_ACROSS_AWAIT: boolean = Als !== undefined;
// The frame of a synchronous observable() call in progress: cheaper than
// AsyncLocalStorage.run (about 10 ns against 200–700 ns,
// bench/context_bench.ts "withContext"), and exact for synchronous code.
let syncFrame: ContextFrame | undefined;

/**
 * `active` turns true at the first {@linkcode withContext} call and stays
 * true: loggers skip the context lookup until then.
 */
export const contextState: { active: boolean } = { active: false };

/**
 * Runs `fn` with `bindings` added to the current context and returns what it
 * returns (a promise stays a promise). Every event logged while `fn` runs,
 * including after any `await` inside it, carries the bindings; a logger's
 * own child bindings and the event's fields win over them. Nested calls
 * merge, the inner binding winning. Throws a `TypeError` when `bindings` is
 * not an object or `fn` not a function.
 *
 * @example Correlate everything a step does
 * ```ts
 * import { getContext, withContext } from "./context.ts";
 * import assert from "node:assert/strict";
 * await withContext({ flow_id: "f-1", run_id: "r-1" }, async () => {
 *   await Promise.resolve();
 *   await withContext({ step_id: "fetch" }, () => {
 *     assert.deepEqual(getContext(), { flow_id: "f-1", run_id: "r-1", step_id: "fetch" });
 *   });
 * });
 * assert.deepEqual(getContext(), {});
 * ```
 */
export function withContext<T>(bindings: ContextBindings, fn: () => T): T {
  if (typeof bindings !== "object" || bindings === null || Array.isArray(bindings)) {
    throw new TypeError('withContext() takes an object of bindings, such as { flow_id: "f-1" }');
  }
  if (typeof fn !== "function") {
    throw new TypeError("withContext() takes a function to run as its second argument");
  }
  contextState.active = true;
  const outer = syncFrame ?? storage.getStore();
  const merged: ContextBindings = {};
  if (outer !== undefined) defineFields(merged, outer.bindings, Reflect.ownKeys(outer.bindings));
  // Symbol keys travel too (observers hang private state there); loggers
  // encode only string keys.
  defineFields(merged, bindings, Reflect.ownKeys(bindings));
  return runFrame({ bindings: Object.freeze(merged) }, fn);
}

/**
 * Copies the `keys` of `from` onto `into` as plain own properties, replacing
 * any already there: defined, not assigned, so a `__proto__` key stays a field.
 */
export function defineFields(into: object, from: object, keys: readonly PropertyKey[]): void {
  for (const key of keys) {
    Object.defineProperty(into, key, {
      value: (from as Record<PropertyKey, unknown>)[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
}

function runFrame<T>(frame: ContextFrame, fn: () => T): T {
  const prev = syncFrame;
  if (prev === undefined) return storage.run(frame, fn);
  // The new frame already holds the synchronous frame's bindings.
  syncFrame = undefined;
  try {
    return storage.run(frame, fn);
  } finally {
    syncFrame = prev;
  }
}

/** The current context frame, or `undefined` outside any {@linkcode withContext}. */
export function currentFrame(): ContextFrame | undefined {
  return contextState.active ? syncFrame ?? storage.getStore() : undefined;
}

/**
 * The bindings of the current context (`{}` outside any
 * {@linkcode withContext}). Frozen.
 *
 * @example Read the current flow id
 * ```ts
 * import { getContext, withContext } from "./context.ts";
 * import assert from "node:assert/strict";
 * withContext({ flow_id: "f-7" }, () => assert.equal(getContext().flow_id, "f-7"));
 * ```
 */
export function getContext(): Readonly<ContextBindings> {
  return currentFrame()?.bindings ?? EMPTY;
}

const EMPTY: Readonly<ContextBindings> = Object.freeze({});

/**
 * Bindings that continue the trace of an incoming request: `trace_id` and
 * `parent_id` (the caller's span) from a valid `traceparent`, the header
 * itself as `traceparent` (version 00; it keeps the caller's sampled flag
 * and says which parent is remote), plus `tracestate` when present. An
 * absent or invalid header gives `{}`: start a new trace. Headers are read
 * case-insensitively from a `Headers` object or a plain record.
 *
 * @example Continue a trace from an HTTP request
 * ```ts
 * import { contextFromHeaders, getContext, withContext } from "./context.ts";
 * import assert from "node:assert/strict";
 * const headers = new Headers({
 *   traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
 * });
 * withContext(contextFromHeaders(headers), () => {
 *   assert.equal(getContext().trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
 *   assert.equal(getContext().parent_id, "00f067aa0ba902b7");
 * });
 * ```
 */
export function contextFromHeaders(
  headers: Headers | Record<string, string | undefined>,
): ContextBindings {
  const get = (name: string): string | undefined => {
    if (typeof (headers as Headers).get === "function") {
      return (headers as Headers).get(name) ?? undefined;
    }
    const record = headers as Record<string, string | undefined>;
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === name) return record[key];
    }
    return undefined;
  };
  return remoteParentBindings(get("traceparent"), get("tracestate")) ?? {};
}

/**
 * The bindings that continue a caller's trace from its `traceparent` and
 * `tracestate` headers (the trace, the caller's span as `parent_id`, the
 * header normalized, `tracestate` when not empty), or null for an absent or
 * invalid `traceparent`.
 */
export function remoteParentBindings(
  traceparent: string | null | undefined,
  tracestate: string | null | undefined,
): { trace_id: string; parent_id: string; traceparent: string; tracestate?: string } | null {
  const tp = parseTraceParent(traceparent, tracestate);
  if (tp === null) return null;
  return {
    trace_id: tp.trace_id,
    parent_id: tp.parent_id,
    traceparent: formatTraceParent(tp.trace_id, tp.parent_id, tp.sampled),
    ...(tp.tracestate === "" ? {} : { tracestate: tp.tracestate }),
  };
}

/**
 * The `traceparent` (and `tracestate`) headers for an outgoing request made
 * in the current context: its `trace_id` and current span, which is its
 * `span_id`, or, in a context that only continues a caller
 * ({@linkcode contextFromHeaders} without a span of its own), the caller's
 * span `parent_id`: the incoming trace is passed on, as OpenTelemetry's
 * W3C propagator does for an extracted context. The sampled flag is the
 * caller's (from the bound `traceparent`), else set. Empty when the context
 * has no valid trace id and span or parent id.
 *
 * @example Propagate the trace to a downstream service
 * ```ts
 * import { getTraceHeaders, withContext } from "./context.ts";
 * import assert from "node:assert/strict";
 * withContext({ trace_id: "4bf92f3577b34da6a3ce929d0e0e4736", span_id: "00f067aa0ba902b7" }, () => {
 *   assert.deepEqual(getTraceHeaders(), {
 *     traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
 *   });
 * });
 * assert.deepEqual(getTraceHeaders(), {});
 * ```
 *
 * @example Pass an unsampled caller's trace on from a request handler
 * ```ts
 * import { contextFromHeaders, getTraceHeaders, withContext } from "./context.ts";
 * import assert from "node:assert/strict";
 * const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
 * withContext({ ...contextFromHeaders({ traceparent }), flow_id: "f-1" }, () => {
 *   assert.deepEqual(getTraceHeaders(), { traceparent });
 * });
 * ```
 */
export function getTraceHeaders(): { traceparent?: string; tracestate?: string } {
  const ctx = getContext();
  const traceId = ctx.trace_id;
  if (!isTraceId(traceId)) return {};
  const spanId = isSpanId(ctx.span_id) ? ctx.span_id : ctx.parent_id;
  if (!isSpanId(spanId)) return {};
  const out: { traceparent?: string; tracestate?: string } = {
    traceparent: formatTraceParent(traceId, spanId, traceFlagsOf(ctx, traceId) === 1),
  };
  if (typeof ctx.tracestate === "string" && ctx.tracestate !== "") out.tracestate = ctx.tracestate;
  return out;
}

/**
 * Runs `fn.apply(thisArg, args)` in a frame of the current bindings plus
 * `extra` (no validation: for observable()'s per-call span). With `async`
 * false the frame is set synchronously, for the synchronous part of `fn`
 * only: promises it creates continue in the enclosing frame.
 * @internal
 */
export function runInSpan<R>(
  extra: ContextBindings,
  isAsync: boolean,
  fn: (...args: unknown[]) => R,
  thisArg: unknown,
  args: unknown[],
): R {
  contextState.active = true;
  const outer = syncFrame ?? storage.getStore();
  const frame = {
    bindings: outer === undefined ? extra : Object.assign({}, outer.bindings, extra),
  };
  if (isAsync) return runFrame(frame, () => fn.apply(thisArg, args));
  const prev = syncFrame;
  syncFrame = frame;
  try {
    return fn.apply(thisArg, args);
  } finally {
    syncFrame = prev;
  }
}
