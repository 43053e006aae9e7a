/**
 * A small Prometheus registry: counters, gauges and histograms with labels,
 * rendered in the text exposition format (version 0.0.4): `# HELP` and
 * `# TYPE` lines, escaped label values, cumulative `_bucket` series ending with
 * `le="+Inf"`, then `_sum` and `_count`. Validated by `promtool check metrics`
 * in `tests/sinks/prometheus_test.ts`.
 *
 * Label values come from events, so each metric holds at most `maxSeries`
 * label sets, the last of them one series whose every label is `"_overflow"`
 * that takes every new set past the limit, so counts stay exact while memory stays bounded.
 *
 * @module
 */

/** The content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const OVERFLOW = "_overflow";

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : "\\" + c));
}

function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** A sample value as the exposition format writes it (`+Inf`, `-Inf`, `NaN`). */
export function formatSampleValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function labelText(names: readonly string[], values: readonly string[], extra = ""): string {
  if (names.length === 0 && extra === "") return "";
  let s = "{";
  for (let i = 0; i < names.length; i++) {
    if (i > 0) s += ",";
    s += `${names[i]}="${escapeLabelValue(values[i] ?? "")}"`;
  }
  if (extra !== "") s += (names.length > 0 ? "," : "") + extra;
  return s + "}";
}

/** What every metric has: a name, help text, label names and its series. */
export abstract class Metric<S> {
  /** Metric name. */
  readonly name: string;
  /** `# HELP` text. */
  readonly help: string;
  /** Label names, in the order label values are passed. */
  readonly labelNames: readonly string[];
  readonly #maxSeries: number;
  /** Series by their joined label values. */
  protected readonly series: Map<string, { values: readonly string[]; state: S }> = new Map();

  /** A metric; prefer the {@linkcode Registry} factories. */
  constructor(name: string, help: string, labelNames: readonly string[], maxSeries: number) {
    if (!METRIC_NAME.test(name)) {
      throw new TypeError(
        `Invalid metric name ${JSON.stringify(name)}: use [a-zA-Z_:][a-zA-Z0-9_:]*`,
      );
    }
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith("__") || l === "le") {
        throw new TypeError(
          `Invalid label name ${
            JSON.stringify(l)
          } of ${name}: use [a-zA-Z_][a-zA-Z0-9_]*, not "le" nor a "__" prefix`,
        );
      }
    }
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    this.#maxSeries = maxSeries;
  }

  /** The state of a new series. */
  protected abstract initial(): S;

  /** The state of the series of `values`, created on demand (bounded by maxSeries). */
  protected state(values: readonly string[]): S {
    const key = values.join("\u0000");
    let entry = this.series.get(key);
    if (entry === undefined) {
      // The overflow series counts toward maxSeries and is created on demand.
      if (this.series.size >= this.#maxSeries - 1) {
        const overflow = this.labelNames.map(() => OVERFLOW);
        const okey = overflow.join("\u0000");
        entry = this.series.get(okey);
        if (entry === undefined) {
          entry = { values: overflow, state: this.initial() };
          this.series.set(okey, entry);
        }
        return entry.state;
      }
      entry = { values: values.slice(), state: this.initial() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  /** The metric in the exposition format. */
  abstract render(): string;

  /** The `# HELP` and `# TYPE` lines. */
  protected header(type: string): string {
    return `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${type}\n`;
  }

  /** The exposition of a metric whose series hold one sample each (a counter or a gauge). */
  protected renderSamples(this: Metric<{ v: number }>, type: string): string {
    let out = this.header(type);
    if (this.series.size === 0 && this.labelNames.length === 0) return out + `${this.name} 0\n`;
    for (const { values, state } of this.series.values()) {
      out += `${this.name}${labelText(this.labelNames, values)} ${formatSampleValue(state.v)}\n`;
    }
    return out;
  }
}

/** A monotonically increasing count. Its name should end in `_total`. */
export class Counter extends Metric<{ v: number }> {
  /** The state of a new series. */
  protected initial(): { v: number } {
    return { v: 0 };
  }
  /** Adds `by` (≥ 0) to the series of `labels` (values in `labelNames` order). */
  inc(labels: readonly string[] = [], by = 1): void {
    if (by > 0) this.state(labels).v += by;
  }
  /** The state of one series, for callers that update it often (`at(l).v += n`). */
  at(labels: readonly string[]): { v: number } {
    return this.state(labels);
  }
  /** Sets a count kept elsewhere (e.g. the ring's drop counter); never goes down. */
  mirror(labels: readonly string[], total: number): void {
    const s = this.state(labels);
    if (total > s.v) s.v = total;
  }
  /** The current value of a series (0 when absent). */
  get(labels: readonly string[] = []): number {
    return this.series.get(labels.join("\u0000"))?.state.v ?? 0;
  }
  /** The metric in the exposition format. */
  render(): string {
    return this.renderSamples("counter");
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric<{ v: number }> {
  /** The state of a new series. */
  protected initial(): { v: number } {
    return { v: 0 };
  }
  /** Sets the series of `labels`. */
  set(labels: readonly string[], v: number): void {
    this.state(labels).v = v;
  }
  /** Adds `by` (may be negative). */
  add(labels: readonly string[], by: number): void {
    this.state(labels).v += by;
  }
  /** The current value of a series (0 when absent). */
  get(labels: readonly string[] = []): number {
    return this.series.get(labels.join("\u0000"))?.state.v ?? 0;
  }
  /** The metric in the exposition format. */
  render(): string {
    return this.renderSamples("gauge");
  }
}

/** The state of one histogram series. */
export interface HistogramState {
  /** Observations per bucket (not cumulative). */
  counts: Float64Array;
  /** Sum of the observations. */
  sum: number;
  /** Number of observations. */
  count: number;
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram extends Metric<HistogramState> {
  /** Upper bounds of the buckets, without `+Inf`. */
  readonly buckets: readonly number[];

  /** A histogram; prefer {@linkcode Registry.histogram}. */
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
    maxSeries: number,
  ) {
    super(name, help, labelNames, maxSeries);
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (!Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!)) {
        throw new RangeError(
          `Buckets of ${name} must be finite and strictly increasing, got ${buckets.join(", ")}`,
        );
      }
    }
    this.buckets = buckets.slice();
  }

  /** The state of a new series. */
  protected initial(): HistogramState {
    return { counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
  }

  /** Records one observation. NaN is ignored. */
  observe(labels: readonly string[], v: number): void {
    this.observeAt(this.state(labels), v);
  }

  /** The state of one series, for {@linkcode Histogram.observeAt}. */
  at(labels: readonly string[]): HistogramState {
    return this.state(labels);
  }

  /** Records one observation into a series state from {@linkcode Histogram.at}. NaN is ignored. */
  observeAt(s: HistogramState, v: number): void {
    if (Number.isNaN(v)) return;
    const b = this.buckets;
    // Counts per bucket are kept non-cumulative; render() accumulates.
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    if (i < b.length) s.counts[i]!++;
    s.sum += v;
    s.count++;
  }

  /** The observation count of a series (0 when absent). */
  count(labels: readonly string[] = []): number {
    return this.series.get(labels.join("\u0000"))?.state.count ?? 0;
  }

  /** The metric in the exposition format. */
  render(): string {
    let out = this.header("histogram");
    const entries = this.series.size === 0 && this.labelNames.length === 0
      ? [{ values: [] as readonly string[], state: this.initial() }]
      : this.series.values();
    for (const { values, state } of entries) {
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += state.counts[i]!;
        const le = `le="${formatSampleValue(this.buckets[i]!)}"`;
        out += `${this.name}_bucket${labelText(this.labelNames, values, le)} ${acc}\n`;
      }
      out += `${this.name}_bucket${
        labelText(this.labelNames, values, 'le="+Inf"')
      } ${state.count}\n`;
      const l = labelText(this.labelNames, values);
      out += `${this.name}_sum${l} ${formatSampleValue(state.sum)}\n`;
      out += `${this.name}_count${l} ${state.count}\n`;
    }
    return out;
  }
}

/** Options of {@linkcode Registry}. */
export interface RegistryOptions {
  /**
   * Label sets kept per metric; later new sets share one `"_overflow"` series.
   * @default {1000}
   */
  maxSeries?: number;
}

/**
 * A set of metrics rendered together.
 *
 * @example A counter and a histogram in the exposition format
 * ```ts
 * import { Registry } from "./prometheus.ts";
 * import assert from "node:assert/strict";
 *
 * const reg = new Registry();
 * const steps = reg.counter("app_steps_total", "Steps by status.", ["status"]);
 * const took = reg.histogram("app_step_duration_seconds", "Step duration.", [], [0.1, 1]);
 * steps.inc(["ok"]);
 * took.observe([], 0.25);
 * const text = reg.render();
 * assert.match(text, /^app_steps_total\{status="ok"\} 1$/m);
 * assert.match(text, /^app_step_duration_seconds_bucket\{le="1"\} 1$/m);
 * assert.match(text, /^app_step_duration_seconds_bucket\{le="\+Inf"\} 1$/m);
 * ```
 */
export class Registry {
  readonly #metrics: Metric<unknown>[] = [];
  readonly #names = new Set<string>();
  readonly #maxSeries: number;

  /** An empty registry. */
  constructor(options: RegistryOptions = {}) {
    const max = options.maxSeries ?? 1000;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`Option maxSeries must be a positive integer, got ${String(max)}`);
    }
    this.#maxSeries = max;
  }

  #add<M extends Metric<unknown>>(m: M): M {
    if (this.#names.has(m.name)) {
      throw new TypeError(`Metric ${m.name} is already registered: give each metric its own name`);
    }
    this.#names.add(m.name);
    this.#metrics.push(m);
    return m;
  }

  /** Registers a counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames, this.#maxSeries));
  }

  /** Registers a gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames, this.#maxSeries));
  }

  /** Registers a histogram with the given upper bounds (`+Inf` is implied). */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets, this.#maxSeries));
  }

  /** Every metric in the text exposition format, in registration order. */
  /** The metric in the exposition format. */
  render(): string {
    let out = "";
    for (const m of this.#metrics) out += m.render();
    return out;
  }
}
