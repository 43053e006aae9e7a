/**
 * The caller's side of the codec: {@linkcode Encoder} writes an event as a
 * record (docs/internals.md "Records", "Values") into a scratch buffer or
 * straight into a ring. This is the log call's hot path: every trick here
 * names its benchmark.
 *
 * @module
 */
import { FLAG_BINDINGS, FLAG_CONSTANTS, FLAG_SHAPE, RECORD_FIXED_BYTES } from "./ring.ts";
import { REDACTED, type Redactor } from "../redact.ts";
import { encodeWtf8Into } from "./wtf8.ts";
import { DEFAULT_LIMITS, type Limits, safeString, Tag } from "./value_format.ts";
import { isPlainFields, putValue, Shape, ValueCache } from "./shape.ts";
import { cutAt, putAscii, putShortText, putWords } from "./short_strings.ts";

// The encoder's cache of short ASCII strings (keys and event names): slots (a
// power of two), and the longest string it keeps.
const STR_SLOTS = 256;
const STR_MAX = 32;
// Bytes per slot: tag, length and STR_MAX characters, rounded up to whole words.
const STR_SLOT_BYTES = 36;
// Shapes one slot of the shape table learns before it stops (docs/internals.md
// "Shapes by reference").
const MAX_SHAPE_CHURN = 64;

const textEncoder = new TextEncoder();
const hasOwn = Object.prototype.hasOwnProperty;

// Bytes kept free at the end of the scratch buffer so a truncation marker always fits.
const RESERVE = 96;
const TRUNCATED_FIELD = "[Truncated: record size limit]";

/**
 * Encodes events into a private scratch buffer, one at a time. One encoder per
 * thread; it is not re-entrant (a getter that logs while its object is being
 * encoded is detected by the caller through {@linkcode Encoder.busy}).
 */
export class Encoder {
  /** The scratch buffer; the encoded record is `buf[0..encode())`. */
  buf: Uint8Array;
  /** True while an event is being encoded (re-entrancy guard). */
  busy = false;
  /** The limits this encoder applies. */
  readonly limits: Limits;
  // The current target: the scratch buffer, or a ring's data area during encodeAt().
  #u8: Uint8Array;
  #dv: DataView;
  readonly #scratchDv: DataView;
  #pos = 0;
  // Writes stop at #end; the RESERVE bytes after it (up to #hard) are kept for markers.
  #end: number;
  #hard: number;
  #overflow = false;
  #limits: Limits;
  // Longest string the ASCII fast path writes: never past maxStringLength.
  readonly #short: number;
  // Direct-mapped cache of the short ASCII keys and event names seen, with
  // their encoded form (tag, length, characters) as little-endian words and
  // whether each is a sensitive key; see #cachedStr.
  readonly #strs: (string | undefined)[] = new Array(STR_SLOTS).fill(undefined);
  readonly #strWords = new Uint32Array((STR_SLOTS * STR_SLOT_BYTES) >> 2);
  readonly #strSensitive = new Uint8Array(STR_SLOTS);
  // The longest string the cache keeps: never past maxStringLength.
  readonly #strMax: number;
  // Per key slot: the last short string value written under that key. A key
  // whose value changes every call (a per-call id) stops being cached after
  // two misses: its misses cost one compare (against undefined), never a
  // copy into the cache (bench/encoder_ab.ts "unique").
  readonly #keyValues = new ValueCache(STR_SLOTS);
  // Per event-name slot: the shape of that event's fields (docs/internals.md
  // "Shapes by reference").
  readonly #shapes: (Shape | undefined)[] = new Array(STR_SLOTS).fill(undefined);
  // Shapes learned per slot, up to MAX_SHAPE_CHURN.
  readonly #shapeChurn = new Uint8Array(STR_SLOTS);
  // The last event name #shapedRecord looked up and its cache slot.
  #lastEvent: string | undefined = undefined;
  #lastSlot = -1;
  // The event-name slot whose shape the current call may (re)learn (-1: none).
  #learnSlot = -1;
  /**
   * True when the producer writes shape definitions (see
   * {@linkcode Encoder.pending}): user events of a known shape then carry
   * its id and their values only. Off by default.
   */
  shapes = false;
  /** The producer's current ring epoch: a shape is used only if defined in it. */
  epoch = 0;
  /**
   * A shape the last event matched or taught but that is not defined in the
   * current epoch: that event was written with its keys, and the producer
   * writes the definition ({@linkcode Encoder.encodeShape}) and clears this.
   */
  pending: Shape | null = null;
  // Objects on the current encoding path, for cycle detection (depth is small).
  #stack: unknown[] = [];
  /** The redactor applied while encoding (null: none). */
  readonly redactor: Redactor | null;
  // Scan string values with the redactor's value patterns (off unless configured).
  readonly #patterns: boolean;

  constructor(limits: Limits = DEFAULT_LIMITS, redactor: Redactor | null = null) {
    this.redactor = redactor;
    this.#patterns = redactor !== null && redactor.hasPatterns;
    this.#limits = limits;
    this.limits = limits;
    this.#short = Math.min(48, limits.maxStringLength);
    this.#strMax = Math.min(STR_MAX, limits.maxStringLength);
    // Not shared memory: Chromium's TextEncoder.encodeInto refuses shared views.
    // A whole number of 4-byte words: the ring copies records word by word.
    this.buf = new Uint8Array((limits.maxRecordBytes + 3) & ~3);
    this.#u8 = this.buf;
    this.#scratchDv = new DataView(this.buf.buffer);
    this.#dv = this.#scratchDv;
    this.#hard = limits.maxRecordBytes;
    this.#end = this.#hard - RESERVE;
  }

  /**
   * Encodes a child logger's bindings (the pairs of a plain object) into a
   * bindings definition record with id `id` (docs/internals.md "Bindings by
   * reference"): length word first, zero-padded to whole 4-byte words, the
   * epoch slot (bytes 4..8) left 0 for the writer to stamp. Returns a copy
   * the caller keeps; an empty object gives an empty array (nothing to define).
   */
  encodeBindings(bindings: Record<string, unknown>, id: number): Uint8Array {
    this.#target(this.buf, this.#scratchDv, 0);
    const len = this.#record(0, 0, 0, 0, FLAG_BINDINGS, "", bindings, id);
    if (this.#u8[18] === 0 && this.#u8[19] === 0) return new Uint8Array(0);
    const out = new Uint8Array((len + 3) & ~3);
    out.set(this.buf.subarray(0, len));
    return out;
  }

  /**
   * Encodes one record (length word included) into the scratch buffer and
   * returns its total byte length. Never throws: hostile values become
   * placeholders.
   */
  encode(
    seq: number,
    ts: number,
    severity: number,
    flags: number,
    event: string,
    fields: Record<string, unknown> | undefined,
    bindingsId = 0,
  ): number {
    this.#target(this.buf, this.#scratchDv, 0);
    // Value patterns never let a shape be learned (#plainFields), so they skip the attempt.
    if (
      flags === 0 && this.shapes && !this.#patterns && typeof fields === "object" &&
      fields !== null
    ) {
      const len = this.#shaped(0, seq, ts, severity, event, fields, bindingsId);
      if (len >= 0) return len;
    }
    return this.#record(0, seq, ts, severity, flags, event, fields, bindingsId);
  }

  /**
   * Encodes one record straight into `target` at offset `at` (4-byte aligned),
   * which must have `limits.maxRecordBytes` writable bytes from there: the
   * ring's data area when it has that much contiguous room. Saves copying the
   * record from the scratch buffer (bench/logger_bench.ts "info").
   */
  encodeAt(
    target: Uint8Array,
    view: DataView,
    at: number,
    seq: number,
    ts: number,
    severity: number,
    event: string,
    fields: Record<string, unknown> | undefined,
    bindingsId: number,
  ): number {
    // The target stays set until the next call: every entry point sets it
    // first, so nothing needs restoring afterwards (bench/logger_bench.ts "info").
    this.#target(target, view, at);
    if (this.shapes && !this.#patterns && typeof fields === "object" && fields !== null) {
      const len = this.#shaped(at, seq, ts, severity, event, fields, bindingsId);
      if (len >= 0) return len;
    }
    return this.#record(at, seq, ts, severity, 0, event, fields, bindingsId);
  }

  #target(u8: Uint8Array, dv: DataView, at: number): void {
    // Nearly always the same ring as the last call: no store (and write
    // barrier) then (bench/encoder_ab.ts "inline", "bound").
    if (this.#u8 !== u8 || this.#dv !== dv) {
      this.#u8 = u8;
      this.#dv = dv;
    }
    this.#hard = at + this.#limits.maxRecordBytes;
    this.#end = this.#hard - RESERVE;
  }

  #record(
    base: number,
    seq: number,
    ts: number,
    severity: number,
    flags: number,
    event: string,
    fields: Record<string, unknown> | undefined,
    bindingsId: number,
  ): number {
    const dv = this.#dv;
    const u8 = this.#u8;
    dv.setUint32(base + 4, seq, true);
    dv.setFloat64(base + 8, ts, true);
    u8[base + 16] = severity;
    u8[base + 17] = flags;
    dv.setUint32(base + 20, bindingsId, true);
    this.#pos = base + RECORD_FIXED_BYTES;
    this.#overflow = false;
    // Value patterns cover the message too: a secret in free text is found only there.
    if (this.#patterns && typeof event === "string") event = this.redactor!.redactName(event);
    let at = -1;
    if (typeof event === "string") {
      const slot = this.#cachedStr(event);
      at = slot >= 0
        ? this.#putCached(dv, this.#pos, this.#end, slot, event.length)
        : putAscii(u8, this.#pos, this.#end, event, this.#short);
    }
    if (at >= 0) this.#pos = at;
    else this.#str(typeof event === "string" ? event : safeString(event));
    const n = fields !== undefined && fields !== null ? this.#top(fields) : 0;
    dv.setUint16(base + 18, n, true);
    dv.setUint32(base, this.#pos - base - 4, true);
    // Set by #shapedRecord, kept by #top only when #plainFields wrote the fields whole.
    if (this.#learnSlot >= 0) {
      if (n > 0) {
        this.#learn(this.#learnSlot, event as string, fields as Record<string, unknown>, n);
      }
      this.#learnSlot = -1;
    }
    return this.#pos - base;
  }

  // #shapedRecord, with what it may throw (a getter, a hostile Proxy) sending
  // the event to the keyed path. The guard is here, around the call, not in
  // #shapedRecord: a try around its values loop made the loop slower
  // (bench/encoder_ab.ts "inline", "bound").
  #shaped(
    base: number,
    seq: number,
    ts: number,
    severity: number,
    event: string,
    fields: object,
    bindingsId: number,
  ): number {
    try {
      return this.#shapedRecord(base, seq, ts, severity, event, fields, bindingsId);
    } catch {
      // #shapedRecord throws only inside its values loop, after the shape lookup set #lastSlot.
      this.#missed(this.#shapes[this.#lastSlot]!, this.#lastSlot);
      return -1;
    }
  }

  // Cold: the event did not match its slot's shape; after two misses in a row
  // the slot learns this call's keys.
  #missed(sh: Shape, slot: number): void {
    this.#overflow = false;
    if (++sh.misses >= 2) this.#learnSlot = slot;
  }

  // Keys by reference (docs/internals.md "Shapes by reference"): when `fields`
  // has exactly the keys of its event's shape, in order, and the shape is
  // defined in the current epoch, writes the whole record (the shape's id and
  // the values only) and returns its length. Otherwise returns -1, having
  // written nothing that counts, with #learnSlot or `pending` set for #record
  // and the producer. The values loop is written out here, not called: the
  // shaped call then costs one call (from write()) instead of two
  // (bench/encoder_ab.ts "bound", "inline"). Throws what a getter or a Proxy
  // throws: see #shaped.
  #shapedRecord(
    base: number,
    seq: number,
    ts: number,
    severity: number,
    event: string,
    fields: object,
    bindingsId: number,
  ): number {
    if (typeof event !== "string") return -1;
    // A call site logs the same event name call after call: one compare
    // instead of #cachedStr's hash, exact since a string's slot never changes
    // (bench/encoder_ab.ts "bound").
    let slot = this.#lastSlot;
    if (event !== this.#lastEvent) {
      slot = this.#cachedStr(event);
      if (slot < 0) return -1;
      this.#lastEvent = event;
      this.#lastSlot = slot;
    }
    const sh = this.#shapes[slot];
    // Another event name or other keys twice in a row: learn this call's.
    if (sh === undefined) {
      this.#learnSlot = slot;
      return -1;
    }
    if (sh.event !== event) {
      if (++sh.misses >= 2) this.#learnSlot = slot;
      return -1;
    }
    const u8 = this.#u8;
    const dv = this.#dv;
    const end = this.#end;
    const keys = sh.keys;
    const nk = keys.length;
    const sensitive = sh.sensitive;
    const constants = sh.constants;
    const cache = sh.values;
    const values = cache.values;
    const misses = cache.misses;
    const doubles = cache.doubles;
    let pos = base + RECORD_FIXED_BYTES + 4;
    let n = 0;
    // Plain objects only: one map check, where instanceof Error walked the prototype chain.
    if (!isPlainFields(fields)) n = -1;
    else {
      const obj = fields as Record<string, unknown>;
      for (const key in obj) {
        if (!hasOwn.call(obj, key)) continue;
        // Keys from for…in are internalized strings: a match is a pointer compare.
        if (n === nk || key !== keys[n]) {
          n = -1;
          break;
        }
        // No key sensitive (nearly always): no byte to test (bench/encoder_ab.ts "inline").
        const v = sensitive !== null && sensitive[n] === 1 ? REDACTED : obj[key];
        let p = pos;
        if (typeof v === "number") {
          if (p + 9 > end) {
            n = -1;
            break;
          }
          if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
            u8[p] = Tag.INT;
            dv.setInt32(p + 1, v, true);
            p += 5;
          } else {
            u8[p] = Tag.FLOAT;
            dv.setFloat64(p + 1, v, true);
            p += 9;
          }
        } else if (typeof v === "string" && v === constants[n]) {
          // The definition's constant: one byte instead of the string's
          // (docs/internals.md "Shapes by reference"; bench/encoder_ab.ts "inline").
          if (p >= end) {
            n = -1;
            break;
          }
          u8[p++] = Tag.CONSTANT;
        } else {
          const q = typeof v === "string"
            ? putValue(u8, dv, p, end, cache, values, misses, doubles, n, v, this.#short)
            : -1;
          if (q >= 0) p = q;
          else {
            this.#pos = p;
            this.#value(v, 1);
            if (this.#overflow) {
              n = -1;
              break;
            }
            p = this.#pos;
          }
        }
        pos = p;
        n++;
      }
      if (n !== nk) n = -1;
    }
    if (n < 0) {
      this.#missed(sh, slot);
      return -1;
    }
    sh.misses = 0;
    const def = sh.definition;
    if (def === null || def.epoch !== this.epoch) {
      this.pending = sh;
      return -1;
    }
    dv.setUint32(base, pos - base - 4, true);
    dv.setUint32(base + 4, seq, true);
    dv.setFloat64(base + 8, ts, true);
    // Severity, flags and field count (bytes 16..20) in one store (bench/encoder_ab.ts "bound").
    dv.setUint32(base + 16, severity | (FLAG_SHAPE << 8) | (n << 16), true);
    dv.setUint32(base + 20, bindingsId, true);
    dv.setUint32(base + RECORD_FIXED_BYTES, def.id, true);
    this.#pos = pos;
    return pos - base;
  }

  // Cold: a new shape for event-name slot `slot`, from a call #plainFields wrote whole.
  #learn(slot: number, event: string, fields: Record<string, unknown>, n: number): void {
    // Each shape costs a definition a lap: call sites that keep replacing
    // each other's shape in a slot are written in full after MAX_SHAPE_CHURN.
    const churn = this.#shapeChurn[slot]!;
    if (churn >= MAX_SHAPE_CHURN) return;
    this.#shapeChurn[slot] = churn + 1;
    const sh = Shape.learn(event, fields, n, this.redactor, this.#short);
    if (sh === null) return;
    this.#shapes[slot] = sh;
    this.pending = sh;
  }

  /**
   * Encodes the definition record of `shape` with id `id` (docs/internals.md
   * "Shapes by reference"): as {@linkcode Encoder.encodeBindings}, the event
   * name and the keys alone, then the keys' constants when it has any
   * (`FLAG_CONSTANTS`). Returns a copy the caller keeps.
   */
  encodeShape(shape: Shape, id: number): Uint8Array {
    this.#target(this.buf, this.#scratchDv, 0);
    const dv = this.#dv;
    dv.setUint32(4, 0, true);
    dv.setFloat64(8, 0, true);
    this.#u8[16] = 0;
    this.#u8[17] = FLAG_BINDINGS | FLAG_SHAPE;
    dv.setUint16(18, shape.keys.length, true);
    dv.setUint32(20, id, true);
    this.#pos = RECORD_FIXED_BYTES;
    this.#overflow = false;
    this.#str(shape.event);
    for (const key of shape.keys) this.#str(key);
    const constants = shape.constants;
    if (constants.some((c) => c !== undefined)) {
      const keysEnd = this.#pos;
      for (const c of constants) {
        if (c === undefined) this.#tag(Tag.UNDEFINED);
        else this.#str(c);
      }
      if (this.#overflow) {
        // Only a Proxy that lied about its values makes it larger than the
        // call it was learned from: no constants then, before any event used one.
        this.#pos = keysEnd;
        this.#overflow = false;
        constants.fill(undefined);
      } else this.#u8[17] = FLAG_BINDINGS | FLAG_SHAPE | FLAG_CONSTANTS;
    }
    dv.setUint32(0, this.#pos - 4, true);
    const out = new Uint8Array((this.#pos + 3) & ~3);
    out.set(this.buf.subarray(0, this.#pos));
    return out;
  }

  // The fields argument is normally a plain object; an Error is kept as the
  // field `err` (as `{ err }` would be), any other value as `value`, instead of being lost.
  #top(fields: unknown): number {
    // Only fields #plainFields writes whole teach a shape (#learnSlot).
    const learn = this.#learnSlot;
    this.#learnSlot = -1;
    try {
      if (typeof fields === "object" && !(fields instanceof Error) && !Array.isArray(fields)) {
        const start = this.#pos;
        try {
          const n = this.#plainFields(fields as Record<string, unknown>);
          if (n >= 0) {
            this.#learnSlot = learn;
            return n;
          }
        } catch {
          // A getter threw: redo every field on the careful path.
        }
        this.#pos = start;
        this.#overflow = false;
        return this.#fields(fields as Record<string, unknown>, 0);
      }
    } catch {
      // instanceof on a hostile Proxy threw: fall through and keep it as a value.
    }
    const start = this.#pos;
    try {
      const key = fields instanceof Error ? "err" : "value";
      this.#str(this.#redactKey(key));
      // A sensitive key's value is never read, as in #fields.
      if (this.redactor !== null && this.redactor.isSensitiveKey(key)) this.#str(REDACTED);
      else this.#value(fields, 1);
    } catch {
      this.#pos = start;
      this.#str("value");
      this.#placeholder("[Unserializable]");
    }
    if (this.#overflow) {
      this.#pos = start;
      this.#overflow = false;
      this.#str("value");
      this.#placeholder(TRUNCATED_FIELD);
    }
    return 1;
  }

  // The common call: a plain object of a few short keys and primitive values,
  // written with the position in a local (bench/logger_bench.ts "info"). Any
  // other value goes through #value; past maxKeys or the record size limit it
  // returns -1 and the caller redoes the fields on the careful path (#fields).
  #plainFields(obj: Record<string, unknown>): number {
    // Value patterns scan every string: the careful path applies them.
    if (this.#patterns) return -1;
    const red = this.redactor;
    const u8 = this.#u8;
    const dv = this.#dv;
    const end = this.#end;
    const maxKeys = this.#limits.maxKeys;
    const short = this.#short;
    // Hoisted: the cache's arrays are loaded once a call, not once a value.
    const cache = this.#keyValues;
    const values = cache.values;
    const misses = cache.misses;
    const doubles = cache.doubles;
    let pos = this.#pos;
    let n = 0;
    for (const key in obj) {
      if (!hasOwn.call(obj, key)) continue;
      if (n === maxKeys) return -1;
      // A cached key is copied a word at a time and knows whether it is
      // sensitive (bench/logger_bench.ts "info").
      const slot = this.#cachedStr(key);
      let p = slot >= 0 ? this.#putCached(dv, pos, end, slot, key.length) : -1;
      if (p < 0) {
        this.#pos = pos;
        this.#str(key);
        p = this.#pos;
      }
      // A sensitive key's value is never read (a getter is not run).
      const sensitive = red !== null &&
        (slot >= 0 ? this.#strSensitive[slot] === 1 : red.isSensitiveKey(key));
      const v = sensitive ? REDACTED : obj[key];
      if (typeof v === "number") {
        if (p + 9 > end) return -1;
        if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
          u8[p] = Tag.INT;
          dv.setInt32(p + 1, v, true);
          p += 5;
        } else {
          u8[p] = Tag.FLOAT;
          dv.setFloat64(p + 1, v, true);
          p += 9;
        }
      } else {
        const q = typeof v !== "string"
          ? -1
          : slot >= 0
          ? putValue(u8, dv, p, end, cache, values, misses, doubles, slot, v, short)
          : putAscii(u8, p, end, v, short);
        if (q >= 0) p = q;
        else {
          this.#pos = p;
          this.#value(v, 1);
          p = this.#pos;
        }
      }
      if (this.#overflow) return -1;
      pos = p;
      n++;
    }
    this.#pos = pos;
    return n;
  }

  // The cache slot holding `s` (filling it on a miss), or -1 when `s` is not
  // cacheable (empty, longer than #strMax or not ASCII). Keys and event names
  // are nearly always literals, so the comparison is mostly by identity;
  // copying the cached words costs a third of encoding the characters, and
  // the slot also answers whether a key is sensitive without the redactor's
  // Map (bench/logger_bench.ts "info").
  #cachedStr(s: string): number {
    const len = s.length;
    if (len === 0 || len > this.#strMax) return -1;
    const slot = (len * 7 + s.charCodeAt(0) + s.charCodeAt(len - 1) * 3) & (STR_SLOTS - 1);
    if (this.#strs[slot] === s) return slot;
    // Emptied first: a string that turns out not to be ASCII has already
    // overwritten part of the slot.
    this.#strs[slot] = undefined;
    const bytes = new Uint8Array(this.#strWords.buffer, slot * STR_SLOT_BYTES, STR_SLOT_BYTES);
    if (putAscii(bytes, 0, STR_SLOT_BYTES, s, STR_MAX) < 0) return -1;
    this.#strs[slot] = s;
    this.#strSensitive[slot] = this.redactor?.isSensitiveKey(s) ? 1 : 0;
    return slot;
  }

  // Copies the cached string of `slot` (`len` characters) to `pos`; -1 when it
  // does not fit before `end`.
  #putCached(dv: DataView, pos: number, end: number, slot: number, len: number): number {
    return putWords(dv, pos, end, this.#strWords, (slot * STR_SLOT_BYTES) >> 2, len + 2);
  }

  // Writes the pairs of `obj`, returns how many. Each field is guarded on its own,
  // so one throwing getter costs only that field.
  #fields(obj: Record<string, unknown>, depth: number): number {
    const start = this.#pos;
    let n = 0;
    try {
      const maxKeys = this.#limits.maxKeys;
      const red = this.redactor;
      let skipped = 0;
      for (const key in obj) {
        if (!hasOwn.call(obj, key)) continue;
        if (n >= maxKeys) {
          skipped++;
          continue;
        }
        const fieldStart = this.#pos;
        try {
          this.#str(this.#redactKey(key));
          // A sensitive key's value is never read (a getter is not run).
          if (red !== null && red.isSensitiveKey(key)) this.#str(REDACTED);
          else this.#value(obj[key], depth + 1);
        } catch {
          this.#pos = fieldStart;
          this.#overflow = false;
          this.#str(this.#redactKey(key));
          this.#placeholder("[Unserializable]");
        }
        if (this.#overflow) {
          // Nested levels only unwind; the top level rewinds this field and
          // writes the markers into the reserve kept for them.
          if (depth !== 0) return n;
          this.#pos = fieldStart;
          this.#overflow = false;
          this.#end = this.#hard;
          this.#str(this.#redactKey(key.length > 32 ? key.slice(0, cutAt(key, 32)) : key));
          this.#placeholder(TRUNCATED_FIELD);
          this.#str("…");
          this.#placeholder("[More fields cut: record size limit]");
          this.#end = this.#hard - RESERVE;
          return n + 2;
        }
        n++;
      }
      if (skipped > 0) {
        this.#str("…");
        this.#placeholder(`[+${skipped} keys]`);
        n++;
      }
    } catch {
      // Enumerating the object itself threw (a hostile Proxy): keep one marker.
      this.#pos = start;
      this.#overflow = false;
      this.#str("…");
      this.#placeholder("[Unserializable fields]");
      n = 1;
    }
    return n;
  }

  #value(v: unknown, depth: number): void {
    switch (typeof v) {
      case "string":
        this.#str(this.#patterns ? this.redactor!.redactString(v) : v);
        return;
      case "number":
        // Small integers as i32: 5 bytes instead of 9; -0 must stay a float.
        if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
          if (this.#room(5)) {
            this.#u8[this.#pos] = Tag.INT;
            this.#dv.setInt32(this.#pos + 1, v, true);
            this.#pos += 5;
          }
        } else if (this.#room(9)) {
          this.#u8[this.#pos] = Tag.FLOAT;
          this.#dv.setFloat64(this.#pos + 1, v, true);
          this.#pos += 9;
        }
        return;
      case "boolean":
        this.#tag(v ? Tag.TRUE : Tag.FALSE);
        return;
      case "undefined":
        this.#tag(Tag.UNDEFINED);
        return;
      case "bigint":
        this.#text(Tag.BIGINT, v.toString());
        return;
      case "object":
        if (v === null) this.#tag(Tag.NULL);
        else this.#object(v, depth);
        return;
      case "function":
        this.#placeholder(`[Function${v.name ? ": " + safeString(v.name) : ""}]`);
        return;
      default:
        this.#placeholder(`[${safeString(v)}]`);
    }
  }

  #object(v: object, depth: number): void {
    const stack = this.#stack;
    for (let i = 0; i < depth - 1 && i < stack.length; i++) {
      if (stack[i] === v) {
        this.#placeholder("[Circular]");
        return;
      }
    }
    if (v instanceof Date) {
      if (this.#room(9)) {
        this.#u8[this.#pos] = Tag.DATE;
        this.#dv.setFloat64(this.#pos + 1, v.getTime(), true);
        this.#pos += 9;
      }
      return;
    }
    const isArray = Array.isArray(v);
    if (depth > this.#limits.maxDepth) {
      this.#placeholder(isArray ? "[Array]" : "[Object]");
      return;
    }
    stack[depth - 1] = v;
    try {
      if (isArray) this.#array(v, depth);
      else if (v instanceof Error) this.#error(v, depth);
      else if (v instanceof Map) this.#map(v, depth);
      else if (v instanceof Set) this.#array(Array.from(v), depth);
      else if (ArrayBuffer.isView(v)) {
        this.#placeholder(`[${v.constructor?.name ?? "ArrayBufferView"}(${v.byteLength})]`);
      } else if (v instanceof ArrayBuffer || v instanceof RegExp || v instanceof Promise) {
        this.#placeholder(`[${Object.prototype.toString.call(v).slice(8, -1)}]`);
      } else if (v instanceof WeakMap || v instanceof WeakSet) {
        this.#placeholder(`[${v.constructor.name}]`);
      } else {
        this.#plain(v as Record<string, unknown>, depth);
      }
    } finally {
      stack[depth - 1] = undefined;
    }
  }

  #plain(obj: Record<string, unknown>, depth: number): void {
    if (!this.#room(5)) return;
    const at = this.#pos;
    this.#u8[at] = Tag.OBJECT;
    this.#pos += 5;
    const n = this.#fields(obj, depth);
    this.#dv.setUint32(at + 1, n, true);
  }

  #array(arr: ArrayLike<unknown>, depth: number): void {
    if (!this.#room(5)) return;
    const len = arr.length;
    const max = this.#limits.maxArrayLength;
    const keep = len > max ? max : len;
    const at = this.#pos;
    this.#u8[at] = Tag.ARRAY;
    this.#dv.setUint32(at + 1, keep + (len > max ? 1 : 0), true);
    this.#pos += 5;
    for (let i = 0; i < keep && !this.#overflow; i++) this.#value(arr[i], depth + 1);
    if (len > max) this.#placeholder(`[+${len - max} items]`);
  }

  #map(map: Map<unknown, unknown>, depth: number): void {
    if (!this.#room(5)) return;
    const at = this.#pos;
    this.#u8[at] = Tag.OBJECT;
    this.#pos += 5;
    const max = this.#limits.maxKeys;
    let n = 0;
    for (const [k, val] of map) {
      if (n === max) {
        this.#str("…");
        this.#placeholder(`[+${map.size - max} keys]`);
        n++;
        break;
      }
      const key = typeof k === "string" ? k : safeString(k);
      this.#str(this.#redactKey(key));
      if (this.redactor !== null && this.redactor.isSensitiveKey(key)) this.#str(REDACTED);
      else this.#value(val, depth + 1);
      n++;
      if (this.#overflow) break;
    }
    this.#dv.setUint32(at + 1, n, true);
  }

  #error(err: Error, depth: number): void {
    this.#tag(Tag.ERROR);
    this.#str(safeString(guard(() => err.name)));
    this.#str(this.#redactText(safeString(guard(() => err.message))));
    const stack = guard(() => err.stack);
    if (typeof stack === "string") this.#str(this.#redactText(stack));
    else this.#tag(Tag.NULL);
    const cause = guard(() => err.cause);
    if (cause === undefined) this.#tag(Tag.UNDEFINED);
    else this.#value(cause, depth + 1);
    // Own enumerable properties such as `code` travel with the error.
    if (!this.#room(4)) return;
    const at = this.#pos;
    this.#pos += 4;
    let n = 0;
    try {
      for (const key in err) {
        if (!hasOwn.call(err, key) || key === "cause" || key === "stack" || key === "message") {
          continue;
        }
        if (n === this.#limits.maxKeys) break;
        this.#str(this.#redactKey(key));
        if (this.redactor !== null && this.redactor.isSensitiveKey(key)) this.#str(REDACTED);
        else this.#value(guard(() => (err as unknown as Record<string, unknown>)[key]), depth + 1);
        n++;
      }
    } catch {
      // Enumeration of a hostile error stops here; what was written stays valid.
    }
    this.#dv.setUint32(at, n, true);
  }

  #redactKey(key: string): string {
    return this.#patterns ? this.redactor!.redactName(key) : key;
  }

  #redactText(s: string): string {
    return this.#patterns ? this.redactor!.redactString(s) : s;
  }

  #tag(tag: number): void {
    if (this.#room(1)) this.#u8[this.#pos++] = tag;
  }

  #room(n: number): boolean {
    if (this.#pos + n > this.#end) {
      this.#overflow = true;
      return false;
    }
    return !this.#overflow;
  }

  #placeholder(text: string): void {
    this.#text(Tag.PLACEHOLDER, text);
  }

  #str(s: string): void {
    let len = s.length;
    if (len > this.#limits.maxStringLength) {
      const keep = cutAt(s, this.#limits.maxStringLength);
      s = s.slice(0, keep) + `…[+${len - keep} chars]`;
      len = s.length;
    }
    if (len <= 48) {
      if (!this.#room(len + 2)) return;
      let p = putAscii(this.#u8, this.#pos, this.#end, s, 48);
      if (p < 0) p = putShortText(this.#u8, this.#pos, this.#end, s);
      if (p >= 0) {
        this.#pos = p;
        return;
      }
    }
    this.#text(Tag.STR, s);
  }

  #text(tag: number, s: string): void {
    if (!this.#room(5)) return;
    const at = this.#pos;
    const room = this.#end - at - 5;
    if (room <= 0) {
      this.#overflow = true;
      return;
    }
    // Into the private scratch first when the target is a ring: TextEncoder
    // may not write to shared memory (Chromium), and this path is cold.
    const direct = this.#u8 !== this.buf;
    const dst = direct
      ? this.buf.subarray(0, Math.min(room, this.buf.length))
      : this.buf.subarray(at + 5, this.#end);
    const { read, written } = textEncoder.encodeInto(s, dst);
    if (read! < s.length) {
      this.#overflow = true;
      return;
    }
    // TextEncoder wrote any lone surrogate as U+FFFD: 3 bytes for 1 code unit,
    // so only a string of more bytes than units (not pure ASCII) can hold one,
    // and pure ASCII pays one comparison (bench/codec_bench.ts "text"). Its
    // WTF-8 has exactly as many bytes as that output, so it fits in its place.
    if (written! !== s.length && !s.isWellFormed()) {
      encodeWtf8Into(s, this.#u8, at + 5, at + 5 + written!);
      tag = Tag.WTF8;
    } else if (direct) this.#u8.set(dst.subarray(0, written!), at + 5);
    this.#u8[at] = tag;
    this.#dv.setUint32(at + 1, written!, true);
    this.#pos = at + 5 + written!;
  }
}

function guard<T>(get: () => T): T | string {
  try {
    return get();
  } catch {
    return "[Unserializable]";
  }
}
