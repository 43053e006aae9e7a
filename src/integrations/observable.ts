/**
 * `observable()`: wraps a sync or async node/action function so each call
 * records `node_entry` and `node_exit` (or `node_error`) events with the
 * duration on a monotonic clock, its own span (`span_id`, and `parent_id`
 * from the enclosing span), optional bounded and redacted capture of inputs
 * and outputs, and provider usage (latency, tokens, cost). A disabled
 * observable is the function itself.
 *
 * @module
 */
import type { Logger } from "../front/logger.ts";
import type { Fields } from "../front/options.ts";
import { isLevelName, type LevelName } from "../level.ts";
import { type CategoryFilter, getCategoryFilter } from "../front/category_filter.ts";
import { currentFrame, runInSpan } from "../front/context.ts";
import { newSpanId } from "../trace_context.ts";
import {
  type CopyBounds,
  DEFAULT_COPY_BOUNDS,
  defaultRedactor,
  getRedactor,
  type RedactOptions,
  Redactor,
} from "../redact.ts";
import { addUsageToCurrentStep, summarizeError, type Usage } from "./lifecycle.ts";

/** Event names written by an observable node. */
export const NODE_EVENTS = {
  /** A call began: `{ node, category, span_id, parent_id?, inputs? }`. */
  entry: "node_entry",
  /** A call returned: `{ node, category, span_id, duration_ms, output?, provider?, usage? }`. */
  exit: "node_exit",
  /** A call threw or rejected: `{ node, category, span_id, duration_ms, error }`. */
  error: "node_error",
} as const;

/** Describes a provider call (LLM, HTTP) for {@linkcode ObservableOptions.provider}. */
export interface ProviderOptions<R> {
  /** The provider, e.g. `"openai"`, `"github"`. */
  name: string;
  /** The model or endpoint, if any. */
  model?: string;
  /** Extracts token and cost usage from the result (a throwing extractor is ignored). */
  usage?: (result: Awaited<R>) => Usage | undefined;
}

/** Options of {@linkcode observable}. */
export interface ObservableOptions<R = unknown> {
  /** The logger the events go to. */
  logger: Logger;
  /**
   * The node's name (`node` field).
   * @default {the function's name, else "anonymous"}
   */
  node?: string;
  /**
   * Dot-separated category for level filters (`llm.openai`, `http`).
   * @default {"node"}
   */
  category?: string;
  /**
   * Level of the entry and exit events (errors are at `error`).
   * @default {"info"}
   */
  level?: LevelName;
  /** Per-category levels, such as `"llm=debug,http=info"` (see `getCategoryFilter`). */
  filter?: string | CategoryFilter;
  /**
   * `false` returns the function itself: no events, no cost.
   * @default {true}
   */
  enabled?: boolean;
  /**
   * Record the arguments (`inputs`) and the result (`output`), redacted and
   * cut to `bounds`.
   * @default {false}
   */
  capture?: boolean | { inputs?: boolean; outputs?: boolean; bounds?: Partial<CopyBounds> };
  /**
   * Redaction of captured values: options or a redactor.
   * @default {the default sensitive keys}
   */
  redact?: RedactOptions | Redactor;
  /** Marks a provider call: records `provider`, `model`, `latency_ms` and `usage`. */
  provider?: ProviderOptions<R>;
  /**
   * Monotonic clock in ms (injected by tests).
   * @default {performance.now}
   */
  now?: () => number;
}

const defaultNow = (): number => performance.now();
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;

/**
 * Wraps `fn` so each call is recorded as a node: entry, exit or error, with
 * duration and span ids. The wrapper keeps `fn`'s signature, `this` and
 * return value (a promise stays a promise; what `fn` throws is rethrown
 * unchanged). When disabled (by `enabled: false`, the logger's level or the
 * category filter) it returns `fn` itself. Throws a `TypeError` when `fn` is
 * not a function or the options are invalid.
 *
 * @example An LLM call with tokens and cost
 * ```ts
 * import { createLogger } from "../../mod.ts";
 * import { observable } from "./observable.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const log = createLogger({ dir, transport: "inline" });
 * const complete = observable(
 *   async (prompt: string, _opts: { api_key: string }) => ({ text: prompt.toUpperCase(), tokens: 7 }),
 *   {
 *     logger: log.child({ flow_id: "f-1" }),
 *     node: "complete",
 *     category: "llm.openai",
 *     capture: true,
 *     provider: { name: "openai", model: "gpt-4o", usage: (r) => ({ input_tokens: 3, output_tokens: r.tokens, cost_usd: 0.001 }) },
 *   },
 * );
 * assert.equal((await complete("hi", { api_key: "sk-secret" })).text, "HI");
 * await log.flush();
 * const flow = await log.getFlowLog("f-1");
 * assert.deepEqual(flow.events.map((e) => e.event), ["node_entry", "node_exit"]);
 * assert.equal(JSON.stringify(flow.events).includes("sk-secret"), false);
 * assert.equal(flow.summary.total_tokens, 10);
 * await log.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function observable<A extends unknown[], R>(
  fn: (...args: A) => R,
  options: ObservableOptions<R>,
): (...args: A) => R {
  if (typeof fn !== "function") throw new TypeError("observable() takes a function to wrap");
  if (
    typeof options !== "object" || options === null || typeof options.logger?.info !== "function"
  ) {
    throw new TypeError("observable() needs options with a logger, such as { logger: log }");
  }
  const level = options.level ?? "info";
  if (!isLevelName(level)) {
    throw new TypeError(
      `Invalid level ${JSON.stringify(level)}: use trace, debug, info, warn, error or fatal`,
    );
  }
  const category = options.category ?? "node";
  if (typeof category !== "string" || category === "") {
    throw new TypeError(
      "Option category must be a non-empty dot-separated name such as llm.openai",
    );
  }
  const node = options.node ?? (fn.name !== "" ? fn.name : "anonymous");
  const logger = options.logger;
  const isAsync = fn instanceof AsyncFunction;
  const filter = typeof options.filter === "string"
    ? getCategoryFilter(options.filter)
    : options.filter;
  if (
    options.enabled === false || !logger.isEnabled(level) ||
    (filter !== undefined && !filter.isEnabled(category, level))
  ) {
    return fn;
  }
  const now = options.now ?? defaultNow;
  const cap = options.capture ?? false;
  const captureInputs = cap === true || (typeof cap === "object" && cap.inputs !== false);
  const captureOutputs = cap === true || (typeof cap === "object" && cap.outputs !== false);
  const bounds: CopyBounds = typeof cap === "object" && cap.bounds !== undefined
    ? { ...DEFAULT_COPY_BOUNDS, ...cap.bounds }
    : DEFAULT_COPY_BOUNDS;
  const redactor = options.redact instanceof Redactor
    ? options.redact
    : options.redact !== undefined
    ? getRedactor(options.redact)
    : defaultRedactor();
  const provider = options.provider;
  // node and category are bound once, so a call encodes only its span ids
  // and duration (bench/observable_bench.ts "observable").
  const bound = logger.child({ node, category });
  const emit = bound[level];
  const emitError = bound.error;

  const exit = (span: string, parent: unknown, start: number, result: unknown): void => {
    const duration = now() - start;
    const fields: Fields = { span_id: span, duration_ms: duration };
    // Logged outside the call's frame: restate the parent, not the context's.
    if (parent !== undefined) fields.parent_id = parent;
    if (captureOutputs) fields.output = redactor.copy(result, bounds);
    if (provider !== undefined) {
      fields.provider = provider.name;
      if (provider.model !== undefined) fields.model = provider.model;
      fields.latency_ms = duration;
      if (provider.usage !== undefined) {
        let usage: Usage | undefined;
        try {
          usage = provider.usage(result as Awaited<R>);
        } catch {
          usage = undefined;
        }
        if (usage !== undefined && usage !== null && typeof usage === "object") {
          const u = { ...usage };
          if (u.total_tokens === undefined) {
            u.total_tokens = (u.input_tokens ?? 0) + (u.output_tokens ?? 0);
          }
          fields.usage = u;
          addUsageToCurrentStep(u);
        }
      }
    }
    emit(NODE_EVENTS.exit, fields);
  };
  const fail = (span: string, parent: unknown, start: number, error: unknown): void => {
    const fields: Fields = {
      span_id: span,
      duration_ms: now() - start,
      error: summarizeError(error),
    };
    if (parent !== undefined) fields.parent_id = parent;
    if (provider !== undefined) fields.provider = provider.name;
    emitError(NODE_EVENTS.error, fields);
  };

  const wrapped = function (this: unknown, ...args: A): R {
    const span = newSpanId();
    const parent = currentFrame()?.bindings.span_id;
    const entry: Fields = { span_id: span };
    if (parent !== undefined) entry.parent_id = parent;
    if (captureInputs) entry.inputs = redactor.copy(args, bounds);
    emit(NODE_EVENTS.entry, entry);
    const start = now();
    let result: R;
    try {
      result = runInSpan(
        parent === undefined ? { span_id: span, node } : { span_id: span, parent_id: parent, node },
        isAsync,
        fn as (...a: unknown[]) => R,
        this,
        args,
      );
    } catch (error) {
      fail(span, parent, start, error);
      throw error;
    }
    if (result instanceof Promise) {
      return result.then(
        (value) => {
          exit(span, parent, start, value);
          return value;
        },
        (error) => {
          fail(span, parent, start, error);
          throw error;
        },
      ) as R;
    }
    exit(span, parent, start, result);
    return result;
  };
  Object.defineProperty(wrapped, "name", { value: fn.name, configurable: true });
  return wrapped;
}
