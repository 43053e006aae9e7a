/**
 * The official OpenTelemetry SDK as the reference for trace context: the
 * W3C propagator of `@opentelemetry/core`, a tracer of
 * `@opentelemetry/sdk-trace` and a logger of `@opentelemetry/sdk-logs`,
 * whose spans and log records go through the official JSON serializers of
 * `@opentelemetry/otlp-transformer`. Tests make the same calls here and
 * through flightlog, and compare the trees {@linkcode traceTree} and
 * {@linkcode logLinks} draw from both requests.
 *
 * @module
 */
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  AlwaysOnSampler,
  createAlwaysRecordSampler,
  ParentBasedSampler,
  type ReadableSpan,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import { JsonLogsSerializer, JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { decodeOtlpRequest } from "./otlp_schema.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** A started SDK span and the context that has it active. */
export interface RefSpan {
  span: Span;
  ctx: Context;
}

/** The SDK, set up as flightlog behaves: it records every span and keeps the caller's sampled flag. */
export class OtelReference {
  readonly #ended: ReadableSpan[] = [];
  readonly #propagator = new W3CTraceContextPropagator();
  readonly #logs = new InMemoryLogRecordExporter();
  readonly #tracer;
  readonly #logger;

  constructor() {
    const provider = new TracerProvider({
      // flightlog records everything; the parent's sampled flag still decides the flags.
      sampler: createAlwaysRecordSampler(new ParentBasedSampler({ root: new AlwaysOnSampler() })),
      // The SDK's exporting processors drop unsampled spans: keep every ended one.
      spanProcessors: [{
        onStart() {},
        onEnd: (span: ReadableSpan) => void this.#ended.push(span),
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
      }],
    });
    this.#tracer = provider.getTracer("reference");
    const logs = new LoggerProvider({
      processors: [new SimpleLogRecordProcessor({ exporter: this.#logs })],
    });
    this.#logger = logs.getLogger("reference");
  }

  /** The context an incoming request with these headers continues. */
  extract(headers: Record<string, string>): Context {
    return this.#propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  }

  /** The headers of an outgoing request made in `ctx`. */
  inject(ctx: Context): Record<string, string> {
    const out: Record<string, string> = {};
    this.#propagator.inject(ctx, out, defaultTextMapSetter);
    return out;
  }

  /** Starts a span under the span active in `parent`. */
  start(name: string, parent: Context): RefSpan {
    const span = this.#tracer.startSpan(name, {}, parent);
    return { span, ctx: trace.setSpan(parent, span) };
  }

  /** Ends `ref` with status OK (flightlog's `ok` and `skipped`). */
  endOk(ref: RefSpan): void {
    ref.span.setStatus({ code: SpanStatusCode.OK });
    ref.span.end();
  }

  /** Emits a log record named `name` in `ctx`. */
  log(name: string, ctx: Context): void {
    this.#logger.emit({ body: name, eventName: name, context: ctx });
  }

  /** The ended spans as an OTLP/JSON request, written by the official serializer. */
  traces(): Any {
    return decodeOtlpRequest("traces", JsonTraceSerializer.serializeRequest(this.#ended)!);
  }

  /** The log records as an OTLP/JSON request, written by the official serializer. */
  logs(): Any {
    return decodeOtlpRequest(
      "logs",
      JsonLogsSerializer.serializeRequest(this.#logs.getFinishedLogRecords())!,
    );
  }
}

function spansOf(request: Any): Any[] {
  return request.resourceSpans.flatMap((r: Any) => r.scopeSpans.flatMap((s: Any) => s.spans));
}

function recordsOf(request: Any): Any[] {
  return request.resourceLogs.flatMap((r: Any) => r.scopeLogs.flatMap((s: Any) => s.logRecords));
}

/**
 * How a trace id relates to the incoming one: `"incoming"` when it is the
 * caller's, else `"new"`. Ids made on each side differ; their relations must not.
 */
function traceOf(traceId: string, incoming: string | undefined): string {
  return traceId === incoming ? "incoming" : "new";
}

/** A span id named by its span in `spans`, else as is (the caller's span, in no request). */
function spanName(id: string, spans: Any[]): string {
  return spans.find((s) => s.spanId === id)?.name ?? id;
}

/** One span of a tree, ids replaced by the relations they stand for. */
export interface TreeNode {
  name: string;
  /** The parent's name, the caller's span id (a remote parent), or null for a root. */
  parent: string | null;
  trace: string;
  flags: number;
  traceState: string | null;
  status: number;
}

/**
 * The trace tree of an OTLP/JSON traces request, sorted by name: each span's
 * parent by name, its flags, trace state and status code. All spans must be
 * of one trace; `incoming` is the trace id of the caller, if any.
 */
export function traceTree(request: Any, incoming?: string): TreeNode[] {
  const spans = spansOf(request);
  const traces = new Set(spans.map((s) => s.traceId));
  if (traces.size !== 1) throw new Error(`Expected one trace, got ${[...traces].join(", ")}`);
  return spans.map((s): TreeNode => ({
    name: s.name,
    parent: s.parentSpanId === undefined || s.parentSpanId === ""
      ? null
      : spanName(s.parentSpanId, spans),
    trace: traceOf(s.traceId, incoming),
    flags: s.flags,
    traceState: s.traceState === undefined || s.traceState === "" ? null : s.traceState,
    status: s.status?.code ?? 0,
  })).sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** The trace context a log record carries, ids replaced by what they stand for. */
export interface LogLink {
  name: string;
  trace: string;
  span: string;
  flags: number;
}

/**
 * The trace context of the log records of `request` named in `names`
 * (`eventName`, else `body`): span by name in `traces` (else the raw id).
 */
export function logLinks(
  request: Any,
  traces: Any,
  names: readonly string[],
  incoming?: string,
): LogLink[] {
  const spans = spansOf(traces);
  return recordsOf(request).filter((r) => names.includes(r.eventName ?? r.body?.stringValue)).map((
    r,
  ) => ({
    name: r.eventName ?? r.body?.stringValue,
    trace: r.traceId === undefined ? "none" : traceOf(r.traceId, incoming),
    span: r.spanId === undefined ? "none" : spanName(r.spanId, spans),
    flags: r.flags ?? 0,
  }));
}

/**
 * Outgoing headers with the span id named by its span in `traces` (else
 * kept: the caller's span passed on), the trace id by its relation.
 */
export function headerLink(
  headers: { traceparent?: string; tracestate?: string },
  traces: Any,
  incoming?: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers.traceparent !== undefined) {
    const [version, traceId, spanId, flags] = headers.traceparent.split("-");
    out.traceparent = [
      version,
      traceOf(traceId!, incoming),
      spanName(spanId!, spansOf(traces)),
      flags,
    ].join("-");
  }
  if (headers.tracestate !== undefined) out.tracestate = headers.tracestate;
  return out;
}
