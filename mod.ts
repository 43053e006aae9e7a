/**
 * flightlog: a flight recorder for agents and flows. A synchronous logging
 * API writes events into a SharedArrayBuffer ring; a worker drains it,
 * serializes with msgpack, persists to append-only segment files and answers
 * flow-log queries.
 *
 * @example Log a flow, then read it back
 * ```ts
 * import { createLogger } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const log = createLogger({ dir });
 * const flow = log.child({ flow_id: "f-42", run_id: "r-1" });
 * flow.info("step_end", { step_id: "fetch", step_type: "http", duration_ms: 12.5, status: "ok" });
 * await log.flush();
 * const trace = await log.getFlowLog("f-42");
 * assert.equal(trace.events[0]?.fields.step_id, "fetch");
 * const errors = await log.query({ flow_id: "f-42", level: "error" });
 * assert.equal(errors.events.length, 0);
 * assert.equal(log.stats().persisted, 1);
 * await log.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { attachLogger, createLogger, type Logger, type LoggerStats } from "./src/front/logger.ts";
export { configure, getLogger, resetConfiguration } from "./src/front/configure.ts";
export type {
  AttachOptions,
  ConfigureOptions,
  DropInfo,
  Fields,
  FlushOptions,
  LoggerOptions,
  LogMethod,
} from "./src/front/options.ts";
export type { StoreOptions } from "./src/store/options.ts";
export { StoreLockedError } from "./src/store/errors.ts";
export type { ProducerHandle } from "./src/transport/handle.ts";
export { isLevelName, type LevelName, levelOfSeverity, LEVELS, SEVERITY } from "./src/level.ts";
export { DEFAULT_LIMITS, type Limits } from "./src/wire/codec.ts";
export { CORRELATION_FIELDS, INTERNAL_EVENTS, type LogEvent } from "./src/event.ts";
export type { FlowLog, FlowSummary, QueryFilter, QueryPage, SpanNode } from "./src/query/types.ts";
export type { FlowListing, FlowPage, ListFlowsOptions } from "./src/query/flow_list.ts";
export type { NodeStatsFilter, NodeStatsRow } from "./src/query/node_stats.ts";
export { LoggerClosedError, type TransportMode } from "./src/transport/types.ts";
export {
  type EndInfo,
  type JobInfo,
  LIFECYCLE_EVENTS,
  type MetricsSink,
  type RunInfo,
  type Status,
  type StepInfo,
} from "./src/lifecycle_events.ts";
export {
  type ConsoleFormat,
  type ConsoleTime,
  formatJson,
  formatText,
  type FormatTextOptions,
  quoteText,
} from "./src/sinks/console_format.ts";
export type { ConsoleOptions, MetricsOptions, MetricsServeOptions } from "./src/sinks/setup.ts";
export type { Sink, SinkFactory, SinkOptions, SinkStats } from "./src/sinks/sink.ts";
export { dispatchLifecycle, type DispatchResult } from "./src/sinks/lifecycle_dispatch.ts";
export {
  type Counter,
  type Gauge,
  type Histogram,
  type HistogramState,
  type Metric,
  PROMETHEUS_CONTENT_TYPE,
  Registry,
  type RegistryOptions,
} from "./src/sinks/prometheus.ts";
export {
  type OtlpAnyValue,
  type OtlpKeyValue,
  type OtlpLogRecord,
  type OtlpLogsRequest,
  type OtlpOptions,
  type OtlpResource,
  type OtlpScope,
  type OtlpSpan,
  type OtlpSpanEvent,
  type OtlpTracesRequest,
  toOtlpLogs,
  toOtlpTraces,
} from "./src/export/otlp.ts";
export { collectSpans, type SpanStatus, type TraceSpan } from "./src/export/spans.ts";
export type { SpanKind } from "./src/span_kind.ts";
export { type UplinkOptions, type UplinkSignal, type UplinkStats } from "./src/uplink/options.ts";
export { type UplinkMetric, uplinkMetrics } from "./src/uplink/metrics.ts";
export type { BackoffOptions } from "./src/uplink/policy.ts";
export {
  CONTEXT_ACROSS_AWAIT,
  type ContextBindings,
  contextFromHeaders,
  getContext,
  getTraceHeaders,
  withContext,
} from "./src/front/context.ts";
export {
  formatTraceParent,
  isSpanId,
  isTraceId,
  newSpanId,
  newTraceId,
  parseTraceParent,
  type TraceParent,
} from "./src/trace_context.ts";
export {
  type CopyBounds,
  DEFAULT_SENSITIVE_KEYS,
  getRedactor,
  redact,
  REDACTED,
  type RedactOptions,
  type Redactor,
  VALUE_PATTERNS,
} from "./src/redact.ts";
export { type CategoryFilter, getCategoryFilter } from "./src/front/category_filter.ts";
export {
  addUsageToCurrentStep,
  type ErrorSummary,
  type FailOptions,
  type FailureInfo,
  type FailurePhase,
  type JobObserver,
  type JobSummary,
  observeRun,
  type RunObserver,
  type RunObserverOptions,
  type RunSummary,
  type StatusCounts,
  type StepObserver,
  type StepOptions,
  type StepSummary,
  summarizeError,
  type Usage,
  type UsageTotals,
  WIDE_EVENTS,
} from "./src/integrations/lifecycle.ts";
export {
  NODE_EVENTS,
  observable,
  type ObservableOptions,
  type ProviderOptions,
} from "./src/integrations/observable.ts";
export {
  getStdLogHandler,
  levelOfStdLog,
  type StdBaseHandler,
  type StdBaseHandlerClass,
  type StdLogHandlerOptions,
  type StdLogRecord,
} from "./src/integrations/std_log.ts";
export {
  type CallFigure,
  type EndToEndFigure,
  measureOverhead,
  type MeasureOverheadOptions,
  type NodeFigure,
  type OverheadFigures,
  type OverheadProgress,
  type OverheadReport,
  type Spread,
} from "./src/bench/measure_overhead.ts";
export type { CpuInfo, RuntimeInfo } from "./src/platform/types.ts";
