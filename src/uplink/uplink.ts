/**
 * Offline-first delivery of the persisted store to an OpenTelemetry
 * collector over OTLP/HTTP JSON: one channel per signal (`/v1/logs`,
 * `/v1/traces`), each reading the store oldest first from its own durable
 * acknowledged position, in the worker, so logging never waits for it.
 *
 * Delivery is at least once: a batch is acknowledged (its position saved)
 * only after a 2xx, so a crash between the receiver's commit and the save
 * sends that batch again, with the same `log.record.uid`s for the receiver to
 * drop. Each step is a plain async function over injected I/O (source, files,
 * fetch, clock, random, sleep), so tests drive it on a simulated clock.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import { INTERNAL_EVENTS } from "../event.ts";
import { SEVERITY } from "../level.ts";
import type { BacklogCounts } from "../store/positions.ts";
import type { DecodedRecord, RecordExtent } from "../store/record.ts";
import { classifyStatus, parseRetryAfter, retryDelay } from "./policy.ts";
import {
  type ResolvedUplinkOptions,
  UPLINK_STAT_NAMES,
  type UplinkSignal,
  type UplinkStats,
} from "./options.ts";
import { type OtlpOptions, toOtlpLogs, toOtlpTraces } from "../export/otlp.ts";
import { encodeOtlpLogs } from "../export/otlp_json.ts";

/** A value, or a promise of it: a source may be synchronous (segment files) or not (IndexedDB). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * Where an uplink reads from: the segment store in Deno (synchronous), the
 * IndexedDB store in a browser (asynchronous: every method may return a
 * promise). Positions are record sequence numbers, increasing in write order.
 */
export interface UplinkSource {
  /** Position of the newest record. */
  readonly lastSeq: number;
  /** Records after `afterSeq`, oldest first, up to `maxEvents` events (at least one record). */
  readAfter(afterSeq: number, maxEvents: number): MaybePromise<DecodedRecord[]>;
  /** Header facts of up to `maxRecords` records after `afterSeq`. */
  recordsAfter(afterSeq: number, maxRecords: number): MaybePromise<RecordExtent[]>;
  /** What is stored after `afterSeq`. */
  backlog(afterSeq: number): MaybePromise<BacklogCounts>;
  /** Stores the uplink's own events (`log.evicted`). */
  append(events: LogEvent[]): MaybePromise<void>;
}

/**
 * An acknowledged position: every record up to `seq`, and the first `skip`
 * events after it (a record can span several requests).
 */
export interface UplinkPosition {
  /** Last record acknowledged whole. */
  seq: number;
  /** Events of the following records acknowledged already. */
  skip: number;
}

/** The uplink's durable state next to the store. */
export interface UplinkFiles {
  /** The acknowledged position of `signal`, or null when none was saved. */
  loadCursor(signal: UplinkSignal): UplinkPosition | null;
  /**
   * Saves the acknowledged position, atomically replaced, so a crash of the
   * process leaves the old or the new one; with `durable`, also flushed to
   * stable storage so it survives a power loss.
   */
  saveCursor(signal: UplinkSignal, position: UplinkPosition, durable: boolean): void;
  /** Keeps a batch the receiver refused for good. */
  writeDeadLetter(name: string, body: Uint8Array): void;
  /** Releases what the files hold open (after the final save of {@linkcode Uplink.close}). */
  close?(): void;
}

/** Encoders of OTLP/JSON requests. */
export interface OtlpEncoders {
  /** `ExportLogsServiceRequest` of the events. */
  logs(events: readonly LogEvent[], options: OtlpOptions): object;
  /** `ExportTraceServiceRequest` of the events (may hold no span). */
  traces(events: readonly LogEvent[], options: OtlpOptions): object;
}

/** Injected I/O and time, so tests run on a simulated clock. */
export interface UplinkRuntime {
  source: UplinkSource;
  files: UplinkFiles;
  /** @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** @default {Date.now} */
  clock?: () => number;
  /** @default {Math.random} */
  random?: () => number;
  /** Waits `ms` or until `signal` aborts. @default a timer */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * With the default, logs are written by `encodeOtlpLogs` (the same bytes
   * as stringifying `toOtlpLogs`, a third of the cost).
   * @default {toOtlpLogs / toOtlpTraces}
   */
  encoders?: OtlpEncoders;
  /** Gzips a request body. @default a `CompressionStream` */
  gzip?: (bytes: Uint8Array) => Promise<Uint8Array>;
}

interface Batch {
  /** Position acknowledged once every part is done. */
  toSeq: number;
  /** Parts still to send, each a run of events (a 413 or the byte limit splits one). */
  parts: LogEvent[][];
}

interface Channel {
  signal: UplinkSignal;
  path: string;
  cursor: number;
  /** Events after `cursor` acknowledged already (parts of the pending batch). */
  skip: number;
  saved: UplinkPosition;
  /** True when the saved position was not flushed to stable storage yet. */
  dirty: boolean;
  pending: Batch | null;
  attempt: number;
  nextAt: number;
  backlogBytes: number;
  backlogEvents: number;
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });

/**
 * Longest time between two durable saves of a position. Every acknowledgement
 * is saved (surviving a crash of the process); an fsync costs milliseconds
 * (13 ms measured on the bench VM, about 40× the work of a 512-event request),
 * so a power loss may re-send up to this much acknowledged data (same ids).
 */
const DURABLE_SAVE_MS = 1000;

/** Bytes left free under `maxBacklogBytes` after an eviction, for the `log.evicted` record. */
const NOTICE_ROOM_BYTES = 512;

const defaultEncoders: OtlpEncoders = { logs: toOtlpLogs, traces: toOtlpTraces };

/** Outcome of one network attempt. */
type Attempt =
  | { kind: "status"; status: number; retryAfter: string | null; body: string }
  | { kind: "network"; error: string }
  | { kind: "closed" };

/**
 * Ships the store to an OTLP/HTTP receiver. {@linkcode Uplink.step} does one
 * unit of work and says how long to wait; {@linkcode Uplink.start} runs it in
 * a loop until {@linkcode Uplink.close}.
 *
 * @example Ship two events to a receiver
 * ```ts
 * import { Uplink } from "./uplink.ts";
 * import { resolveUplinkOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * const events = [1, 2].map((seq) => ({
 *   ts_ms: seq, level: "info" as const, severity: 9, event: "e", producer: "p.1", seq, fields: {},
 * }));
 * const source = {
 *   lastSeq: 1,
 *   readAfter: (after: number) => after < 1 ? [{ seq: 1, bytes: 100, events }] : [],
 *   recordsAfter: () => [],
 *   backlog: (after: number) => ({ records: 1 - after, events: 2 - 2 * after, bytes: 100 - 100 * after }),
 *   append: () => {},
 * };
 * let saved = 0;
 * const files = {
 *   loadCursor: () => null,
 *   saveCursor: (_: string, p: { seq: number }) => (saved = p.seq),
 *   writeDeadLetter: () => {},
 * };
 * const bodies: unknown[] = [];
 * const fetch = async (_url: string | URL | Request, init?: RequestInit) => {
 *   bodies.push(JSON.parse(new TextDecoder().decode(init!.body as Uint8Array)));
 *   return new Response("{}", { status: 200 });
 * };
 * const options = resolveUplinkOptions({
 *   url: "http://127.0.0.1:4318", signals: ["logs"], compression: "none",
 * });
 * const uplink = new Uplink(options, { source, files, fetch: fetch as typeof globalThis.fetch });
 * await uplink.step();
 * assert.equal(saved, 1);
 * assert.equal(uplink.stats().sent, 2);
 * assert.equal(bodies.length, 1);
 * await uplink.close();
 * ```
 */
export class Uplink {
  readonly #options: ResolvedUplinkOptions;
  readonly #source: UplinkSource;
  readonly #files: UplinkFiles;
  readonly #fetch: typeof fetch;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly #encoders: OtlpEncoders;
  readonly #gzip: (bytes: Uint8Array) => Promise<Uint8Array>;
  readonly #otlpOptions: OtlpOptions;
  readonly #channels: Channel[];
  readonly #closer = new AbortController();
  #wake = new AbortController();
  #loop: Promise<void> | null = null;
  #deadLetters = 0;
  #lastDurableMs = -Infinity;
  #internalSeq = 0;
  readonly #stats: UplinkStats = {
    sent: 0,
    failed: 0,
    retried: 0,
    rejected: 0,
    dead_lettered: 0,
    evicted: 0,
    backlog_bytes: 0,
    backlog_events: 0,
    last_success_ms: 0,
    offline: 0,
    requests: 0,
    bytes_sent: 0,
  };
  /** Optional mirror of the stats, read by another thread (the logger's `stats()`). */
  readonly #mirror: Float64Array | null;

  /**
   * Loads each signal's acknowledged position. `options` come checked from
   * `resolveUplinkOptions()` (on the logger's thread) and are trusted here.
   */
  constructor(options: ResolvedUplinkOptions, runtime: UplinkRuntime, mirror?: Float64Array) {
    this.#options = options;
    this.#source = runtime.source;
    this.#files = runtime.files;
    this.#fetch = runtime.fetch ?? globalThis.fetch.bind(globalThis);
    this.#clock = runtime.clock ?? Date.now;
    this.#random = runtime.random ?? Math.random;
    this.#sleep = runtime.sleep ?? defaultSleep;
    this.#encoders = runtime.encoders ?? defaultEncoders;
    this.#gzip = runtime.gzip ?? gzip;
    this.#otlpOptions = this.#options.resource === undefined
      ? {}
      : { resource: this.#options.resource };
    this.#mirror = mirror ?? null;
    this.#channels = this.#options.signals.map((signal) => {
      const saved = this.#files.loadCursor(signal) ?? { seq: 0, skip: 0 };
      return {
        signal,
        path: `/v1/${signal}`,
        cursor: saved.seq,
        skip: saved.skip,
        saved,
        dirty: false,
        pending: null,
        attempt: 0,
        nextAt: 0,
        backlogBytes: 0,
        backlogEvents: 0,
      };
    });
    // Shows the backlog before the first step; a failure here shows again in step().
    this.#refreshBacklog().catch(() => {});
  }

  /** A copy of the self-metrics. */
  stats(): UplinkStats {
    return { ...this.#stats };
  }

  /** The acknowledged position of each signal. */
  positions(): Partial<Record<UplinkSignal, number>> {
    const out: Partial<Record<UplinkSignal, number>> = {};
    for (const c of this.#channels) out[c.signal] = c.cursor;
    return out;
  }

  /**
   * Tells the uplink that records are being evicted by the store's retention
   * (wire it to the store's `onEvict`): the unsent ones are counted as
   * evicted and skipped.
   */
  onStoreEvict(records: readonly RecordExtent[]): void {
    const last = records.at(-1);
    if (last === undefined) return;
    for (const c of this.#channels) {
      if (last.seq <= c.cursor) continue;
      let events = 0;
      for (const r of records) if (r.seq > c.cursor) events += r.eventCount;
      if (c.pending !== null && c.pending.toSeq <= last.seq) c.pending = null;
      if (c.pending === null) c.skip = 0;
      c.cursor = last.seq;
      this.#stats.evicted += events;
    }
    this.#publish();
  }

  /**
   * A hint that the network is back (the browser's `online` event): the
   * next attempt happens now instead of at the end of the backoff.
   */
  wake(): void {
    for (const c of this.#channels) c.nextAt = 0;
    this.#wake.abort();
  }

  /** Runs {@linkcode Uplink.step} in a loop until {@linkcode Uplink.close}. */
  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#closer.signal.aborted) {
      let wait: number;
      try {
        wait = await this.step();
      } catch {
        // A store read failed: look again later rather than stop shipping for good.
        wait = this.#options.intervalMs;
      }
      if (wait > 0 && !this.#closer.signal.aborted) {
        if (this.#wake.signal.aborted) this.#wake = new AbortController();
        await this.#sleep(wait, AbortSignal.any([this.#closer.signal, this.#wake.signal]));
      }
    }
  }

  /**
   * One unit of work on every channel that is due: enforce the backlog cap,
   * then send (or resend) one request. Returns the delay until some channel
   * is due again: 0 while there is more to send right away.
   */
  async step(): Promise<number> {
    let wait = Infinity;
    for (const c of this.#channels) {
      if (this.#closer.signal.aborted) return 0;
      const now = this.#clock();
      await this.#enforceBacklog(c);
      if (c.nextAt > now) {
        wait = Math.min(wait, c.nextAt - now);
        continue;
      }
      wait = Math.min(wait, await this.#stepChannel(c));
    }
    await this.#refreshBacklog();
    return wait === Infinity ? this.#options.intervalMs : wait;
  }

  /** Stops the loop, aborting a request in flight, and saves the positions. Idempotent. */
  async close(): Promise<void> {
    this.#closer.abort();
    await this.#loop;
    for (const c of this.#channels) this.#save(c, true);
    this.#files.close?.();
  }

  // ---- one channel ----

  async #stepChannel(c: Channel): Promise<number> {
    let batch = c.pending;
    if (batch === null) {
      // Read before the records: whatever is appended meanwhile has a higher position.
      const last = this.#source.lastSeq;
      const records = await this.#source.readAfter(c.cursor, this.#options.batchEvents);
      if (records.length === 0) {
        const unread = await this.#source.recordsAfter(c.cursor, 1);
        // A record past `last` was appended since readAfter() (the consumer
        // runs between these awaits): read it next time, never skip it.
        if (unread.length > 0 && unread[0]!.seq > last) return 0;
        if (unread.length > 0) {
          // Indexed but unreadable (damaged, counted by the store): step over it.
          c.cursor = unread[0]!.seq;
          c.skip = 0;
          this.#save(c);
          return 0;
        }
        // Everything stored was sent; a position taken by no record (a failed write) is passed.
        if (last > c.cursor) c.cursor = last;
        return this.#options.intervalMs;
      }
      const events: LogEvent[] = [];
      for (const r of records) for (const e of r.events) events.push(e);
      // Parts acknowledged before a restart are not sent again.
      if (c.skip > 0) events.splice(0, c.skip);
      // A record can hold more events than a request may (the worker stores up to 1024 at once).
      const parts: LogEvent[][] = [];
      const size = this.#options.batchEvents;
      for (let i = 0; i < events.length; i += size) parts.push(events.slice(i, i + size));
      batch = c.pending = { toSeq: records.at(-1)!.seq, parts };
    }
    const part = batch.parts[0]!;
    const otlp = this.#otlpOptions;
    let items: number;
    let json: Uint8Array;
    if (c.signal === "logs" && this.#encoders === defaultEncoders) {
      // The bytes of stringifying toOtlpLogs, at a third of the cost; one record per event.
      items = part.length;
      json = encodeOtlpLogs(part, otlp);
    } else {
      const request = c.signal === "logs"
        ? this.#encoders.logs(part, otlp)
        : this.#encoders.traces(part, otlp);
      items = countItems(request, c.signal);
      json = items === 0 ? new Uint8Array(0) : new TextEncoder().encode(JSON.stringify(request));
    }
    if (items === 0) return this.#done(c, batch, 0);
    if (json.length > this.#options.batchBytes && part.length > 1) {
      batch.parts.splice(0, 1, ...halves(part));
      return 0;
    }
    const attempt = await this.#send(c, json);
    if (attempt.kind === "closed" || c.pending !== batch) return 0;
    if (attempt.kind === "network") return this.#retry(c, null);
    const outcome = classifyStatus(attempt.status);
    if (outcome === "ok") {
      this.#stats.offline = 0;
      this.#stats.last_success_ms = this.#clock();
      const rejected = partialRejected(attempt.body, c.signal);
      this.#stats.rejected += rejected;
      return this.#done(c, batch, Math.max(0, items - rejected));
    }
    this.#stats.failed++;
    if (outcome === "retry") {
      return this.#retry(c, parseRetryAfter(attempt.retryAfter, this.#clock()));
    }
    if (outcome === "split" && part.length > 1) {
      batch.parts.splice(0, 1, ...halves(part));
      return 0;
    }
    // Refused for good (or a single event still too large): keep it aside and move on.
    this.#stats.offline = 0;
    this.#deadLetter(c, part, attempt.status, attempt.body, json);
    this.#stats.dead_lettered += items;
    return this.#done(c, batch, 0);
  }

  /** Marks the first part of `batch` done; acknowledges the batch after its last part. */
  #done(c: Channel, batch: Batch, sent: number): number {
    this.#stats.sent += sent;
    c.attempt = 0;
    c.skip += batch.parts.shift()!.length;
    if (batch.parts.length === 0) {
      c.pending = null;
      c.cursor = Math.max(c.cursor, batch.toSeq);
      c.skip = 0;
    }
    this.#save(c);
    this.#publish();
    return 0;
  }

  #retry(c: Channel, retryAfterMs: number | null): number {
    this.#stats.offline = 1;
    this.#stats.retried++;
    c.attempt++;
    const delay = retryDelay(c.attempt, retryAfterMs, this.#options.backoff, this.#random);
    c.nextAt = this.#clock() + delay;
    this.#publish();
    return delay;
  }

  async #send(c: Channel, json: Uint8Array): Promise<Attempt> {
    const headers: Record<string, string> = {
      ...this.#options.headers,
      "content-type": "application/json",
    };
    let body: Uint8Array = json;
    if (this.#options.gzip) {
      body = await this.#gzip(json);
      headers["content-encoding"] = "gzip";
    }
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#options.timeoutMs);
    this.#stats.requests++;
    this.#stats.bytes_sent += body.length;
    try {
      const response = await this.#fetch(this.#options.url + c.path, {
        method: "POST",
        headers,
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.any([this.#closer.signal, timeout.signal]),
      });
      const text = await response.text();
      return {
        kind: "status",
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        body: text,
      };
    } catch (error) {
      if (this.#closer.signal.aborted) return { kind: "closed" };
      this.#stats.failed++;
      return { kind: "network", error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  #deadLetter(c: Channel, part: LogEvent[], status: number, reason: string, json: Uint8Array) {
    const first = part[0]!;
    const name = `${String(c.pending?.toSeq ?? c.cursor).padStart(12, "0")}-${c.signal}-` +
      `${++this.#deadLetters}.json`;
    const head = new TextEncoder().encode(
      JSON.stringify({
        signal: c.signal,
        status,
        reason: reason.slice(0, 4096),
        time_ms: this.#clock(),
        events: part.length,
        first_uid: `${first.producer}:${first.seq}`,
      }) + "\n",
    );
    const bytes = new Uint8Array(head.length + json.length);
    bytes.set(head);
    bytes.set(json, head.length);
    try {
      this.#files.writeDeadLetter(name, bytes);
    } catch {
      // Counted in dead_lettered either way; a full disk must not stop delivery of the rest.
    }
  }

  // ---- backlog ----

  async #enforceBacklog(c: Channel): Promise<void> {
    const cap = this.#options.maxBacklogBytes;
    if (cap === Infinity) return;
    let excess = (await this.#source.backlog(c.cursor)).bytes - cap;
    if (excess <= 0) return;
    // Room for the log.evicted notice written below, so it does not push the backlog over again.
    excess += NOTICE_ROOM_BYTES;
    const evicted = { records: 0, events: 0, bytes: 0 };
    let to = c.cursor;
    while (excess > 0) {
      const infos = await this.#source.recordsAfter(to, 256);
      if (infos.length === 0) break;
      for (const r of infos) {
        if (excess <= 0) break;
        excess -= r.end - r.start;
        evicted.records++;
        evicted.events += r.eventCount;
        evicted.bytes += r.end - r.start;
        to = r.seq;
      }
    }
    // The pending batch starts right after the old position, so it was evicted too.
    c.pending = null;
    c.cursor = to;
    c.skip = 0;
    this.#save(c);
    this.#stats.evicted += evicted.events;
    try {
      await this.#source.append([{
        ts_ms: this.#clock(),
        level: "warn",
        severity: SEVERITY.warn,
        event: INTERNAL_EVENTS.evicted,
        producer: "uplink",
        seq: ++this.#internalSeq,
        fields: { reason: "uplink_backlog", signal: c.signal, ...evicted },
      }]);
    } catch {
      // The eviction is counted in stats() even when the notice cannot be stored.
    }
    this.#publish();
  }

  /**
   * Counts the backlog again now. The worker calls it before it answers a
   * flush, so `stats()` counts every stored, unacknowledged event from the
   * moment `flush()` resolves, not from the end of the next step.
   */
  refreshBacklog(): Promise<void> {
    return this.#refreshBacklog();
  }

  async #refreshBacklog(): Promise<void> {
    let bytes = 0;
    let events = 0;
    for (const c of this.#channels) {
      const b = await this.#source.backlog(c.cursor);
      c.backlogBytes = b.bytes;
      c.backlogEvents = b.events;
      bytes = Math.max(bytes, b.bytes);
      events = Math.max(events, b.events);
    }
    this.#stats.backlog_bytes = bytes;
    this.#stats.backlog_events = events;
    this.#publish();
  }

  #save(c: Channel, final = false): void {
    const now = this.#clock();
    const durable = final || now - this.#lastDurableMs >= DURABLE_SAVE_MS;
    if (c.saved.seq === c.cursor && c.saved.skip === c.skip && !(final && c.dirty)) return;
    const position = { seq: c.cursor, skip: c.skip };
    this.#files.saveCursor(c.signal, position, durable);
    c.saved = position;
    c.dirty = !durable;
    if (durable) this.#lastDurableMs = now;
  }

  #publish(): void {
    const m = this.#mirror;
    if (m === null) return;
    for (let i = 0; i < UPLINK_STAT_NAMES.length; i++) m[i] = this.#stats[UPLINK_STAT_NAMES[i]!];
  }
}

function halves(part: LogEvent[]): LogEvent[][] {
  const mid = Math.ceil(part.length / 2);
  return [part.slice(0, mid), part.slice(mid)];
}

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Items (log records or spans) in an OTLP/JSON request. */
export function countItems(body: object, signal: UplinkSignal): number {
  const request = body as Record<string, unknown>;
  let n = 0;
  if (signal === "logs") {
    for (
      const r of (request.resourceLogs ?? []) as { scopeLogs?: { logRecords?: unknown[] }[] }[]
    ) {
      for (const s of r.scopeLogs ?? []) n += s.logRecords?.length ?? 0;
    }
  } else {
    for (const r of (request.resourceSpans ?? []) as { scopeSpans?: { spans?: unknown[] }[] }[]) {
      for (const s of r.scopeSpans ?? []) n += s.spans?.length ?? 0;
    }
  }
  return n;
}

/** Items refused in a partial-success response body (0 when none or unreadable). */
function partialRejected(body: string, signal: UplinkSignal): number {
  if (body === "") return 0;
  try {
    const parsed = JSON.parse(body) as { partialSuccess?: Record<string, unknown> };
    const value = parsed.partialSuccess
      ?.[signal === "logs" ? "rejectedLogRecords" : "rejectedSpans"];
    const n = Number(value ?? 0);
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}
