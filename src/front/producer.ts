/**
 * The hot path: what a log call runs on the caller's thread. {@linkcode Core}
 * is the producer shared by a root logger and its children (sequence
 * numbers, drop accounting, the encoder and the ring); {@linkcode Bindings}
 * is a child's bindings as its producer writes them.
 *
 * A write encodes the event into the ring (or a private scratch buffer, then
 * copies it) and returns. It never throws, never blocks (except under the
 * opt-in `"block"` overflow policy, where waiting is allowed), and allocates
 * nothing for primitive fields beyond what the caller passed.
 *
 * @module
 */
import { DEFAULT_LIMITS, Encoder, MIN_RECORD_BYTES } from "../wire/codec.ts";
import type { Shape } from "../wire/shape.ts";
import { SEVERITY } from "../level.ts";
import { FLAG_INTERNAL, type RingCounters } from "../wire/ring.ts";
import { INTERNAL_EVENTS } from "../event.ts";
import type { Producer, Transport } from "../transport/open.ts";
import type { DropInfo, Fields } from "./options.ts";

// A log.dropped record (about 100 bytes) plus the smallest event record.
const BURST_PROBE_BYTES = MIN_RECORD_BYTES;

// What shapeOf() finds: today's call ("event", fields?) or one the encoder
// turns into a placeholder; (err) alone; (err or plain fields, "event").
const USUAL = 0;
const ERROR_ALONE = 1;
const NAME_SECOND = 2;

// Cold path: only when the first argument is not a string. Never throws: a
// hostile Proxy's prototype trap leaves the call as it is.
function shapeOf(first: unknown, second: unknown): number {
  if (typeof first !== "object" || first === null) return USUAL;
  try {
    if (second === undefined) return first instanceof Error ? ERROR_ALONE : USUAL;
    if (typeof second !== "string") return USUAL;
    if (first instanceof Error) return NAME_SECOND;
    const proto = Object.getPrototypeOf(first);
    return proto === Object.prototype || proto === null ? NAME_SECOND : USUAL;
  } catch {
    return USUAL;
  }
}

// A lazy fields function that throws is recorded as fields that could not be
// enumerated, as a hostile Proxy is (the encoder's "[Unserializable fields]").
const UNSERIALIZABLE_FIELDS: Fields = Object.freeze({ "…": "[Unserializable fields]" });

function lazyFields(fn: () => unknown): unknown {
  try {
    return fn();
  } catch {
    return UNSERIALIZABLE_FIELDS;
  }
}

/**
 * A child logger's bindings as its producer writes them: one definition
 * record, written again once per ring epoch (docs/internals.md "Bindings by
 * reference"); id 0 means no bindings.
 */
export class Bindings {
  /** Id of the definition in its producer (0: no bindings). */
  readonly id: number;
  /** The definition record, padded to whole 4-byte words. */
  readonly record: Uint8Array;
  /** Bytes of the record (unpadded). */
  readonly length: number;
  /** The epoch the definition was last written in (0: never). */
  epoch = 0;
  /** The epoch the definition was last mirrored in (docs/internals.md "Definitions mirror"). */
  mirrored = 0;
  readonly #words: Uint32Array;

  constructor(id: number, record: Uint8Array) {
    this.id = record.length === 0 ? 0 : id;
    this.record = record;
    this.#words = new Uint32Array(record.buffer, record.byteOffset, record.byteLength >> 2);
    this.length = record.length === 0 ? 0 : this.#words[0]! + 4;
  }

  /** Writes `epoch` into the record's epoch slot. */
  stamp(epoch: number): void {
    this.#words[1] = epoch;
  }
}

/**
 * The producer side shared by a root logger and its children: sequence
 * numbers, drop accounting, the encoder and the ring.
 */
export class Core {
  readonly transport: Transport;
  readonly producer: Producer;
  readonly encoder: Encoder;
  readonly clock: () => number;
  readonly #overflow: "drop" | "block";
  readonly #blockTimeoutMs: number;
  readonly #onDrop: ((info: DropInfo) => void) | undefined;
  readonly #maxRecord: number;
  #seq = 0;
  #emitted = 0;
  #dropped = 0;
  #burst = 0;
  #burstSince = 0;
  #closed = false;

  constructor(
    transport: Transport,
    encoder: Encoder,
    clock: () => number,
    overflow: "drop" | "block",
    blockTimeoutMs: number,
    onDrop: ((info: DropInfo) => void) | undefined,
  ) {
    this.transport = transport;
    this.producer = transport.producer;
    this.encoder = encoder;
    this.#maxRecord = encoder.limits.maxRecordBytes;
    this.clock = clock;
    this.#overflow = overflow;
    this.#blockTimeoutMs = blockTimeoutMs;
    this.#onDrop = onDrop;
    // This producer defines the shapes its encoder learns (docs/internals.md "Shapes by reference").
    encoder.shapes = true;
    transport.bindingsSource = () => this.handOverBindings();
    transport.publishCounters = () => this.producer.publish(this.#emitted, this.#dropped);
    transport.stopProducing = () => this.close();
    transport.settleDrops = () => this.settleDrops();
    // The sab transport's unload spill looks definitions up here (src/wire/sab_spill.ts).
    transport.definitions = (id) => this.#kept.get(id) ?? this.#keptBefore.get(id);
  }

  /**
   * The hot path. Never throws. Takes every shape a level method accepts
   * (docs/api.md "Errors and pino's argument order", "Lazy fields").
   */
  write(severity: number, event: unknown, fields: unknown, b: Bindings): void {
    // The common call ("event", fields?) pays two typeof tests for the other
    // shapes (bench/logger_bench.ts "info"); an Error as the fields is left
    // to the encoder, which tests for it anyway (field `err`).
    if (typeof event !== "string") {
      const shape = shapeOf(event, fields);
      if (shape === ERROR_ALONE) {
        fields = event;
        event = "error";
      } else if (shape === NAME_SECOND) {
        const first = event;
        event = fields;
        fields = first;
      }
    } else if (typeof fields === "function") {
      fields = lazyFields(fields as () => unknown);
    }
    // Anything else is encoded as it is: the encoder guards every value.
    const name = event as string;
    const values = fields as Fields | undefined;
    const enc = this.encoder;
    const emitted = ++this.#emitted;
    // A getter that logs while its object is being encoded: drop, counted.
    if (enc.busy || this.#closed) {
      this.#drop();
      return;
    }
    enc.busy = true;
    try {
      const seq = ++this.#seq;
      const producer = this.producer;
      // During a drop burst, skip encoding while there is not even room for
      // the log.dropped record and a minimal event: drops stay cheap. (The
      // "block" policy waits instead.)
      if (this.#burst !== 0 && this.#overflow === "drop" && !producer.hasRoom(BURST_PROBE_BYTES)) {
        this.#drop();
        return;
      }
      // The child's bindings travel by reference: defined once per ring epoch
      // (docs/internals.md "Bindings by reference").
      if (b.id !== 0 && b.epoch !== producer.epoch && !this.#define(b)) {
        this.#drop();
        return;
      }
      const ts = this.clock();
      enc.epoch = producer.epoch;
      // Encode in place when the ring has a whole record's contiguous room;
      // otherwise (near the end, nearly full, or after drops) go through the
      // scratch buffer (bench/logger_bench.ts "info").
      const at = this.#burst === 0 ? producer.reserve(this.#maxRecord) : -1;
      if (at >= 0) {
        producer.commit(
          enc.encodeAt(producer.data, producer.view, at, seq, ts, severity, name, values, b.id),
        );
        if (enc.pending !== null) this.#defineShape(enc.pending);
        if ((emitted & 255) === 0) producer.publish(emitted, this.#dropped);
        return;
      }
      const len = enc.encode(seq, ts, severity, 0, name, values, b.id);
      if (this.#burst !== 0 && !this.#writeDropped(ts)) {
        this.#drop();
      } else if (producer.write(enc.buf, len) || this.#block(enc.buf, len)) {
        if (enc.pending !== null) this.#defineShape(enc.pending);
        // Counters reach the shared header every 256 events, not per event.
        if ((emitted & 255) === 0) producer.publish(emitted, this.#dropped);
      } else {
        this.#drop();
      }
    } catch {
      // Unreachable by design (the encoder guards every user value); kept so a
      // bug can never surface as an exception in the caller.
      this.#drop();
    } finally {
      enc.busy = false;
      enc.pending = null;
    }
  }

  // Cold: once per shape per epoch. The event that found the shape undefined
  // was written with its keys; the definition follows it, so the next event
  // of that shape can refer to it (docs/internals.md "Shapes by reference").
  #defineShape(sh: Shape): void {
    this.encoder.pending = null;
    let def = sh.definition as Bindings | null;
    if (def === null) {
      const id = this.nextBindId();
      def = new Bindings(id, this.encoder.encodeShape(sh, id));
      sh.definition = def;
    }
    if (def.epoch !== this.producer.epoch) this.#define(def);
  }

  // Writes the child's bindings definition stamped with the current epoch.
  #define(b: Bindings): boolean {
    const epoch = this.producer.epoch;
    b.stamp(epoch);
    // An attached ring's definitions are mirrored for a restarted worker,
    // before the ring write, once per epoch (docs/internals.md "Definitions mirror").
    if (b.mirrored !== epoch) {
      b.mirrored = epoch;
      this.producer.mirror?.(b.record, b.length, epoch);
    }
    if (!this.producer.write(b.record, b.length) && !this.#block(b.record, b.length)) return false;
    b.epoch = epoch;
    this.#keep(b, epoch);
    return true;
  }

  // The definitions written in the current and the previous epoch: a worker
  // that restarts gets them before it drains (docs/internals.md "Worker restart").
  // Cold path: once per child per epoch.
  // Definitions written in the current and the previous epoch, by id: all
  // the ring can still refer to. A restarted worker gets them handed over
  // (docs/internals.md "Worker restart"); the sab unload spill looks them up
  // (src/wire/sab_spill.ts). Once per child per epoch, never per event.
  #kept = new Map<number, Bindings>();
  #keptBefore = new Map<number, Bindings>();
  #keptEpoch = 0;

  #keep(b: Bindings, epoch: number): void {
    if (epoch !== this.#keptEpoch) {
      this.#keptBefore = epoch === this.#keptEpoch + 1 ? this.#kept : new Map();
      this.#kept = new Map();
      this.#keptEpoch = epoch;
    }
    this.#kept.set(b.id, b);
  }

  /**
   * For a worker restart (docs/internals.md "Worker restart"): returns the bindings
   * definitions the ring may still refer to, framed end to end, and makes
   * every child define itself again before its next event.
   */
  handOverBindings(): Uint8Array {
    const all = new Set([...this.#keptBefore.values(), ...this.#kept.values()]);
    let bytes = 0;
    for (const b of all) bytes += b.record.length;
    const out = new Uint8Array(bytes);
    let at = 0;
    for (const b of all) {
      out.set(b.record, at);
      at += b.record.length;
      b.epoch = 0;
    }
    this.#kept = new Map();
    this.#keptBefore = new Map();
    return out;
  }

  #block(src: Uint8Array, len: number): boolean {
    if (this.#overflow !== "block") return false;
    const deadline = performance.now() + this.#blockTimeoutMs;
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0 || !this.producer.waitForSpace(left)) return false;
      if (this.producer.write(src, len)) return true;
    }
  }

  #drop(): void {
    this.producer.publish(this.#emitted, ++this.#dropped);
    if (this.#burst++ === 0) this.#burstSince = this.clock();
    const cb = this.#onDrop;
    if (cb !== undefined) {
      try {
        cb({ count: this.#burst, since_ms: this.#burstSince });
      } catch {
        // A throwing callback must not turn a drop into an exception.
      }
    }
  }

  // Writes the `log.dropped` record for the current burst; the user event's
  // bytes in the scratch buffer are re-encoded afterwards by the caller path,
  // so the burst record is encoded in a second scratch.
  #writeDropped(ts: number): boolean {
    const scratch = this.#droppedEncoder ??= new Encoder({
      ...DEFAULT_LIMITS,
      maxRecordBytes: MIN_RECORD_BYTES,
    });
    const len = scratch.encode(
      0,
      ts,
      SEVERITY.warn,
      FLAG_INTERNAL,
      INTERNAL_EVENTS.dropped,
      {
        count: this.#burst,
        since_ms: this.#burstSince,
        until_ms: ts,
      },
    );
    if (!this.producer.write(scratch.buf, len)) return false;
    this.#burst = 0;
    return true;
  }
  #droppedEncoder: Encoder | undefined;
  #bindIds = 0;

  /** A new bindings id for a child logger (unique on this producer). */
  nextBindId(): number {
    this.#bindIds = (this.#bindIds + 1) >>> 0 || 1;
    return this.#bindIds;
  }

  /** Counters for `stats()`: exact on this thread, the consumer's from the header. */
  counters(): RingCounters {
    const c = this.producer.counters();
    c.emitted = this.#emitted;
    c.dropped = this.#dropped;
    return c;
  }

  /**
   * Writes the `log.dropped` record of an open drop burst, if there is room.
   * Returns true when no burst is left open.
   */
  settleDrops(): boolean {
    if (this.#burst === 0) return true;
    if (!this.#writeDropped(this.clock())) return false;
    this.producer.wake();
    return true;
  }

  /** Publishes HEAD and the exact counters to the consumer (before a flush). */
  publish(): void {
    this.producer.publish(this.#emitted, this.#dropped);
    this.producer.wake();
  }

  /** Marks the producer closed: later calls are dropped and counted. */
  close(): void {
    this.#closed = true;
  }
}
