/**
 * The worker's side of the codec: {@linkcode Decoder} turns the records copied
 * out of one producer's ring back into events (docs/internals.md "Records",
 * "Values", "Bindings by reference"), and refuses damaged bytes with a
 * {@linkcode RecordDecodeError} rather than trusting them.
 *
 * @module
 */
import {
  FLAG_BINDINGS,
  FLAG_CONSTANTS,
  FLAG_INTERNAL,
  FLAG_SHAPE,
  RECORD_FIXED_BYTES,
} from "./ring.ts";
import { levelOfSeverity } from "../level.ts";
import { BoundLogEvent, type LogEvent, markWtf8Strings } from "../event.ts";
import { decodeWtf8 } from "./wtf8.ts";
import { MAX_DECODE_DEPTH, safeString, Tag } from "./value_format.ts";

// ignoreBOM: a string that starts with U+FEFF keeps it (the default strips it).
const textDecoder = new TextDecoder("utf-8", { ignoreBOM: true });

/** A decoding failure: the record is damaged or of an unknown version. */
export class RecordDecodeError extends Error {
  override name = "RecordDecodeError";
}

const STRING_CACHE_SIZE = 4096;
// Up to 12 characters `+=` builds a flat string; from 13 V8 builds a rope that
// msgpackr then pays to flatten, and fromCharCode.apply made cache hits slower.
const ASCII_DIRECT_MAX = 12;

function isAscii(u8: Uint8Array, p: number, len: number): boolean {
  let any = 0;
  for (let i = 0; i < len; i++) any |= u8[p + i]!;
  return any < 0x80;
}

// Pure ASCII bytes are their own UTF-16 code units.
function asciiString(u8: Uint8Array, p: number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += String.fromCharCode(u8[p + i]!);
  return s;
}
// A definition by id: a child's bindings, or a shape (an event name, keys and
// their constants; docs/internals.md "Shapes by reference"). Both share one id
// space per producer.
interface Definition {
  readonly epoch: number;
  fields: Record<string, unknown> | null;
  event: string;
  keys: string[] | null;
  // Each key's constant (undefined: none); null for bindings or a shape without constants.
  constants: (string | undefined)[] | null;
}

/**
 * A definition as {@linkcode Decoder.definition} gives it: a child's bindings
 * (`fields`) or a shape (`event` and `keys`). The same object as long as the
 * decoder holds the definition, so callers may cache what they derive from it.
 */
export type DecoderDefinition = Readonly<Definition>;

// What a shape's constant decodes to when the shape was lost with a dead worker.
const CONSTANT_LOST = "[constant lost with its shape]";

const LEVEL_OF_SEVERITY = Array.from({ length: 25 }, (_, i) => levelOfSeverity(i));

/**
 * Decodes records copied out of one producer's ring. Keeps caches (short
 * strings, decoded bindings by id), so use one decoder per producer.
 */
export class Decoder {
  #u8: Uint8Array = new Uint8Array(0);
  #dv: DataView = new DataView(new ArrayBuffer(0));
  #pos = 0;
  #end = 0;
  readonly #bindings = new Map<number, Definition>();
  #epoch = 0;
  // Keys, event names and bound ids repeat from event to event: a
  // direct-mapped cache of short strings by their bytes saves building and
  // internalizing the same string again (bench/codec_bench.ts "decode").
  readonly #cacheBytes: (Uint8Array | undefined)[] = new Array(STRING_CACHE_SIZE);
  readonly #cacheStrings: string[] = new Array(STRING_CACHE_SIZE).fill("");
  // A miss on a taken slot only replaces it when the same bytes come twice in
  // a row there, so a one-off value (a per-call id) never evicts a repeated key.
  readonly #cacheSeen = new Int32Array(STRING_CACHE_SIZE);
  // The fields object being decoded: a string the store must write as WTF-8
  // (a lone surrogate, or a leading U+FEFF) marks it (markWtf8Strings), so the
  // store checks the strings of these few objects only (src/event.ts).
  #into: object = {};

  #cached(u8: Uint8Array, p: number, len: number): string {
    let h = 0x811c9dc5;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ u8[p + i]!, 0x01000193);
    const slot = (h >>> 0) & (STRING_CACHE_SIZE - 1);
    const known = this.#cacheBytes[slot];
    if (known !== undefined && known.length === len) {
      let i = 0;
      while (i < len && known[i] === u8[p + i]) i++;
      if (i === len) return this.#cacheStrings[slot]!;
    }
    return this.#miss(u8, p, len, slot, h, known === undefined);
  }

  // No slice or TextDecoder for a short ASCII one-off: inline workload 1,229–1,340 → 542–599 ns/event
  // (bench/decoder_ab.ts, 2026-12-05, 2 vCPU AMD EPYC, load 1.0–1.1, Deno 2.9.6).
  #miss(u8: Uint8Array, p: number, len: number, slot: number, h: number, free: boolean): string {
    const s = len <= ASCII_DIRECT_MAX && isAscii(u8, p, len)
      ? asciiString(u8, p, len)
      : textDecoder.decode(u8.subarray(p, p + len));
    if (free || this.#cacheSeen[slot] === h) {
      this.#cacheBytes[slot] = u8.slice(p, p + len);
      this.#cacheStrings[slot] = s;
    } else this.#cacheSeen[slot] = h;
    return s;
  }

  #at(bytes: Uint8Array, start: number, end: number): DataView {
    if (bytes !== this.#u8) {
      this.#u8 = bytes;
      this.#dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    this.#end = end;
    this.#depth = 0;
    if (end - start < RECORD_FIXED_BYTES - 4) throw new RecordDecodeError("Record too short");
    return this.#dv;
  }

  /**
   * Takes a bindings definition record (docs/internals.md "Bindings by
   * reference"): later events with its id get these bindings. The first
   * definition of a newer epoch forgets every definition of older epochs.
   * With `adopt`, a definition handed over by the producer after a worker
   * restart: it forgets nothing and is forgotten by the ring's next newer
   * epoch.
   */
  define(bytes: Uint8Array, start: number, end: number, adopt = false): void {
    const dv = this.#at(bytes, start, end);
    const epoch = dv.getUint32(start, true);
    const npairs = dv.getUint16(start + 14, true);
    const id = dv.getUint32(start + 16, true);
    const fields: Record<string, unknown> = {};
    this.#into = fields;
    this.#pos = start + 20;
    const event = this.#string();
    let def: Definition;
    const flags = bytes[start + 13]!;
    if ((flags & FLAG_SHAPE) !== 0) {
      // A shape: the keys, then their constants if flagged.
      const keys: string[] = new Array(npairs);
      for (let i = 0; i < npairs; i++) keys[i] = this.#string();
      let constants: (string | undefined)[] | null = null;
      if ((flags & FLAG_CONSTANTS) !== 0) {
        constants = new Array(npairs);
        for (let i = 0; i < npairs; i++) {
          const c = this.#value();
          if (c !== undefined && typeof c !== "string") {
            throw new RecordDecodeError("A shape's constant is not a string");
          }
          constants[i] = c;
        }
      }
      def = { epoch, fields: null, event, keys, constants };
    } else {
      for (let i = 0; i < npairs; i++) {
        const key = this.#string();
        setField(fields, key, this.#value());
      }
      def = { epoch, fields, event: "", keys: null, constants: null };
    }
    if (id === 0) throw new RecordDecodeError("Bindings definition without an id");
    if (adopt) {
      // Handed over after a worker restart (docs/internals.md "Worker restart"):
      // kept until the ring itself brings a newer epoch.
      const known = this.#bindings.get(id);
      if (known === undefined || known.epoch <= epoch) this.#bindings.set(id, def);
      return;
    }
    if (epoch > this.#epoch) {
      this.#epoch = epoch;
      for (const [known, def] of this.#bindings) {
        if (def.epoch < epoch) this.#bindings.delete(known);
      }
    }
    this.#bindings.set(id, def);
  }

  /**
   * True on a consumer started after a worker restart: an event whose
   * definition the dead worker took is kept with `bindings_lost: true`
   * instead of being rejected.
   */
  recovering = false;

  /** Definitions currently held, bindings and shapes (bounded by what one epoch defined). */
  get definitions(): number {
    return this.#bindings.size;
  }

  /** The definition held under `id` (bindings or a shape), if any. */
  definition(id: number): DecoderDefinition | undefined {
    return this.#bindings.get(id);
  }

  /** Decodes `bytes[start..end)` (a record without its length word) into an event. */
  decode(bytes: Uint8Array, start: number, end: number, producer: string): LogEvent {
    const dv = this.#at(bytes, start, end);
    if ((bytes[start + 13]! & FLAG_BINDINGS) !== 0) {
      throw new RecordDecodeError("A bindings definition is not an event: use define()");
    }
    const seq = dv.getUint32(start, true);
    const ts = dv.getFloat64(start + 4, true);
    const severity = bytes[start + 12]!;
    const nfields = dv.getUint16(start + 14, true);
    const bindId = dv.getUint32(start + 16, true);
    const fields: Record<string, unknown> = {};
    this.#into = fields;
    // A child logger's bindings were decoded once, from its definition; the
    // event shares that object and the store writes it once per record
    // (bench/codec_bench.ts "decode").
    let template: Record<string, unknown> | undefined;
    if (bindId !== 0) {
      const def = this.#bindings.get(bindId);
      if (def !== undefined && def.fields === null) {
        throw new RecordDecodeError(`Event refers to shape ${bindId} as bindings`);
      }
      template = def?.fields ?? undefined;
      if (template === undefined && !this.recovering) {
        throw new RecordDecodeError(`Event refers to unknown bindings ${bindId}`);
      }
    }
    let event: string;
    if ((bytes[start + 13]! & FLAG_SHAPE) !== 0) {
      event = this.#shaped(dv, start, nfields, fields);
    } else {
      this.#pos = start + 20;
      event = this.#string();
      for (let i = 0; i < nfields; i++) {
        const key = this.#string();
        setField(fields, key, this.#value());
      }
    }
    // After a worker restart, a definition the dead worker took (docs/internals.md
    // "Worker restart"): keep the event, say what is missing.
    if (bindId !== 0 && template === undefined) setField(fields, "bindings_lost", true);
    const level = LEVEL_OF_SEVERITY[severity] ?? "trace";
    if (template !== undefined) {
      return new BoundLogEvent(ts, level, severity, event, producer, seq, template, fields);
    }
    return { ts_ms: ts, level, severity, event, producer, seq, fields };
  }

  // The values of an event of a defined shape (docs/internals.md "Shapes by
  // reference") into `fields`; returns the shape's event name. After a worker
  // restart a shape the dead worker took leaves the values under their
  // positions ("0", "1", …) with `shape_lost: true` rather than losing them.
  #shaped(dv: DataView, start: number, n: number, fields: Record<string, unknown>): string {
    this.#pos = start + 20;
    this.#need(4);
    const id = dv.getUint32(start + 20, true);
    this.#pos = start + 24;
    const def = this.#bindings.get(id);
    const keys = def?.keys;
    if (keys === undefined || keys === null) {
      if (def !== undefined) {
        throw new RecordDecodeError(`Event refers to bindings ${id} as a shape`);
      }
      if (!this.recovering) throw new RecordDecodeError(`Event refers to unknown shape ${id}`);
      for (let i = 0; i < n; i++) {
        setField(fields, String(i), this.#constant() ? CONSTANT_LOST : this.#value());
      }
      setField(fields, "shape_lost", true);
      return "[unknown event]";
    }
    if (keys.length !== n) {
      throw new RecordDecodeError(`Event has ${n} values for shape ${id} of ${keys.length} keys`);
    }
    const constants = def!.constants;
    for (let i = 0; i < n; i++) {
      let v: unknown;
      if (this.#constant()) {
        v = constants?.[i];
        if (v === undefined) {
          throw new RecordDecodeError(`Event uses a constant shape ${id} has not for key ${i}`);
        }
      } else v = this.#value();
      setField(fields, keys[i]!, v);
    }
    return def!.event;
  }

  // True (and past it) when the next value is CONSTANT, the shape's constant for its key.
  #constant(): boolean {
    this.#need(1);
    if (this.#u8[this.#pos] !== Tag.CONSTANT) return false;
    this.#pos++;
    return true;
  }

  /** True when the record at `bytes[start..]` is a bindings definition. */
  static isDefinition(bytes: Uint8Array, start: number): boolean {
    return (bytes[start + 13]! & FLAG_BINDINGS) !== 0;
  }

  /** True when the record at `bytes[start..]` is an internal event. */
  static isInternal(bytes: Uint8Array, start: number): boolean {
    return (bytes[start + 13]! & FLAG_INTERNAL) !== 0;
  }

  #need(n: number): void {
    if (this.#pos + n > this.#end) throw new RecordDecodeError("Record ends inside a value");
  }

  #string(): string {
    const v = this.#value();
    return typeof v === "string" ? v : safeString(v);
  }

  #value(): unknown {
    this.#need(1);
    const u8 = this.#u8;
    const tag = u8[this.#pos++];
    switch (tag) {
      case Tag.ASCII: {
        this.#need(1);
        const len = u8[this.#pos++]!;
        this.#need(len);
        const p = this.#pos;
        this.#pos = p + len;
        return this.#cached(u8, p, len);
      }
      case Tag.STR: {
        const b = this.#bytes();
        const s = b.length <= 64 ? this.#cached(b, 0, b.length) : textDecoder.decode(b);
        if (s.charCodeAt(0) === 0xfeff) markWtf8Strings(this.#into);
        return s;
      }
      case Tag.PLACEHOLDER:
        return textDecoder.decode(this.#bytes());
      case Tag.WTF8:
        markWtf8Strings(this.#into);
        try {
          return decodeWtf8(this.#bytes());
        } catch (error) {
          if (error instanceof TypeError) throw new RecordDecodeError(error.message);
          throw error;
        }
      case Tag.INT: {
        this.#need(4);
        const v = this.#dv.getInt32(this.#pos, true);
        this.#pos += 4;
        return v;
      }
      case Tag.FLOAT: {
        this.#need(8);
        const v = this.#dv.getFloat64(this.#pos, true);
        this.#pos += 8;
        return v;
      }
      case Tag.NULL:
        return null;
      case Tag.UNDEFINED:
        return undefined;
      case Tag.FALSE:
        return false;
      case Tag.TRUE:
        return true;
      case Tag.BIGINT: {
        const text = textDecoder.decode(this.#bytes());
        try {
          return BigInt(text);
        } catch {
          throw new RecordDecodeError("Invalid bigint digits");
        }
      }
      case Tag.DATE: {
        this.#need(8);
        const v = this.#dv.getFloat64(this.#pos, true);
        this.#pos += 8;
        return new Date(v);
      }
      case Tag.OBJECT: {
        const n = this.#count();
        this.#enter();
        const obj: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const key = this.#string();
          setField(obj, key, this.#value());
        }
        this.#depth--;
        return obj;
      }
      case Tag.ARRAY: {
        const n = this.#count();
        this.#enter();
        const arr = new Array(n);
        for (let i = 0; i < n; i++) arr[i] = this.#value();
        this.#depth--;
        return arr;
      }
      case Tag.ERROR: {
        const err: Record<string, unknown> = {};
        err.name = this.#string();
        err.message = this.#string();
        const stack = this.#value();
        if (typeof stack === "string") err.stack = stack;
        const cause = this.#value();
        if (cause !== undefined) err.cause = cause;
        const n = this.#count();
        for (let i = 0; i < n; i++) {
          const key = this.#string();
          setField(err, key, this.#value());
        }
        return err;
      }
      default:
        throw new RecordDecodeError(`Unknown value tag ${tag}`);
    }
  }

  // Nesting is capped so damaged or hostile bytes cannot exhaust the stack
  // (the encoder never nests deeper than limits.maxDepth ≤ MAX_DECODE_DEPTH).
  #depth = 0;
  #enter(): void {
    if (++this.#depth > MAX_DECODE_DEPTH) {
      throw new RecordDecodeError(`Record nested deeper than ${MAX_DECODE_DEPTH}`);
    }
  }

  // A count can never exceed the bytes left (every item takes ≥ 1 byte): checked
  // before allocating, so a damaged count cannot allocate a huge array.
  #count(): number {
    this.#need(4);
    const n = this.#dv.getUint32(this.#pos, true);
    this.#pos += 4;
    if (n > this.#end - this.#pos) throw new RecordDecodeError("Count longer than the record");
    return n;
  }

  #bytes(): Uint8Array {
    this.#need(4);
    const len = this.#dv.getUint32(this.#pos, true);
    this.#pos += 4;
    this.#need(len);
    const p = this.#pos;
    this.#pos = p + len;
    return this.#u8.subarray(p, p + len);
  }
}

// A key named "__proto__" must become an own property, never the prototype.
function setField(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(obj, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    obj[key] = value;
  }
}
