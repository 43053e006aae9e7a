/**
 * Transcodes a record payload straight from MessagePack bytes to JSON Lines
 * bytes, the same bytes `payloadToJsonLines()` gives once UTF-8 encoded, but
 * without building events, field objects or strings: about twice as fast
 * (bench/cli_figures.ts), which is what lets an export pass 500,000 events/s.
 *
 * It understands the payload subset the store writes for ordinary events
 * (see docs/internals.md "Payload"): nil, booleans, integers up to 32
 * bits, floats, strings, arrays, and msgpackr records (`d4 72 <id>` inline
 * definitions and one-byte references). Anything else (maps, binary,
 * 64-bit integers, bigints, `undefined`, Dates, flightlog's extensions,
 * two-byte record ids, a call field that overrides or precedes a binding,
 * a string that needs escaping) makes it return null, and the caller uses
 * `payloadToJsonLines()` for that record: the output is the same either way.
 *
 * @module
 */
import { levelOfSeverity, LEVELS } from "../level.ts";
import { ByteWriter } from "./byte_writer.ts";

/** Thrown inside the transcoder for input it leaves to the general path. */
const UNSUPPORTED = new Error("unsupported payload");

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LEVEL_BYTES = new Map(LEVELS.map((l) => [l, encoder.encode(`,"level":"${l}","severity":`)]));
const TS = encoder.encode('{"ts_ms":');
const EVENT = encoder.encode(',"event":');
const PRODUCER = encoder.encode(',"producer":');
const SEQ = encoder.encode(',"seq":');
const FIELDS = encoder.encode(',"fields":{');
const END = encoder.encode("}}\n");

/** A record structure: its keys, each key as JSON with a colon, and the bytes that define the keys. */
interface Structure {
  keys: string[];
  json: Uint8Array[];
  raw: Uint8Array;
}

/** Structures seen, by a hash of their keys' bytes (checked on a hit). */
const STRUCTURES = new Map<number, Structure>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const EMPTY: Structure = { keys: [], json: [], raw: new Uint8Array(0) };

class Transcoder extends ByteWriter {
  src: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(new ArrayBuffer(0));
  at = 0;
  structures: (Structure | undefined)[] = new Array(64);

  reset(src: Uint8Array): void {
    this.src = src;
    this.view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    this.at = 0;
    this.pos = 0;
    this.structures.fill(undefined);
  }

  u8(): number {
    if (this.at >= this.src.length) throw UNSUPPORTED;
    return this.src[this.at++]!;
  }

  /** Length of an array header at the cursor, consuming it. */
  arrayLength(): number {
    const token = this.u8();
    if (token >= 0x90 && token <= 0x9f) return token - 0x90;
    if (token === 0xdc) return this.view.getUint16(this.take(2));
    if (token === 0xdd) return this.view.getUint32(this.take(4));
    throw UNSUPPORTED;
  }

  /** Consumes `n` bytes and returns where they start. */
  take(n: number): number {
    const at = this.at;
    if (at + n > this.src.length) throw UNSUPPORTED;
    this.at = at + n;
    return at;
  }

  /** Length of a string header at the cursor (consuming it), or -1 when no string is there. */
  stringLength(): number {
    const token = this.src[this.at]!;
    if (token >= 0xa0 && token <= 0xbf) {
      this.at++;
      return token - 0xa0;
    }
    if (token === 0xd9) return this.at++, this.src[this.take(1)]!;
    if (token === 0xda) return this.at++, this.view.getUint16(this.take(2));
    if (token === 0xdb) return this.at++, this.view.getUint32(this.take(4));
    return -1;
  }

  /** Reads a string value as a JS string (for structure keys); short ASCII skips TextDecoder, an op call. */
  readString(): string {
    const length = this.stringLength();
    if (length < 0 || this.at + length > this.src.length) throw UNSUPPORTED;
    const start = this.at;
    this.at += length;
    if (length <= 64) {
      let ascii = true;
      for (let i = start; i < this.at; i++) {
        if (this.src[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode(...this.src.subarray(start, this.at));
    }
    return utf8.decode(this.src.subarray(start, this.at));
  }

  /**
   * Writes the string at the cursor as JSON. Printable ASCII without `"`
   * and `\` is copied; anything else is left to the general path, which
   * knows how msgpackr decodes it.
   */
  writeString(length: number): void {
    const src = this.src;
    const end = this.at + length;
    if (end > src.length) throw UNSUPPORTED;
    this.reserve(length + 2);
    const out = this.buf;
    let o = this.pos;
    out[o++] = 0x22;
    for (let i = this.at; i < end; i++) {
      const c = src[i]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x7f) throw UNSUPPORTED;
      out[o++] = c;
    }
    out[o++] = 0x22;
    this.pos = o;
    this.at = end;
  }

  number(value: number): void {
    this.ascii(Number.isFinite(value) ? String(value) : "null");
  }

  /** Writes the value at the cursor as JSON. */
  value(): void {
    const token = this.u8();
    if (token < 0x40) return this.ascii(String(token));
    if (token < 0x80) return this.record(token & 0x3f);
    if (token < 0x90) throw UNSUPPORTED; // fixmap: unpacked as a Map
    if (token < 0xa0) return this.array(token - 0x90);
    if (token < 0xc0) return this.writeString(token - 0xa0);
    if (token >= 0xe0) return this.ascii(String(token - 0x100));
    const v = this.view;
    switch (token) {
      case 0xc0:
        return this.ascii("null");
      case 0xc2:
        return this.ascii("false");
      case 0xc3:
        return this.ascii("true");
      case 0xca:
        return this.number(v.getFloat32(this.take(4)));
      case 0xcb:
        return this.number(v.getFloat64(this.take(8)));
      case 0xcc:
        return this.ascii(String(v.getUint8(this.take(1))));
      case 0xcd:
        return this.ascii(String(v.getUint16(this.take(2))));
      case 0xce:
        return this.ascii(String(v.getUint32(this.take(4))));
      case 0xd0:
        return this.ascii(String(v.getInt8(this.take(1))));
      case 0xd1:
        return this.ascii(String(v.getInt16(this.take(2))));
      case 0xd2:
        return this.ascii(String(v.getInt32(this.take(4))));
      case 0xd4: {
        // msgpackr record definition: d4 72 <id>, the keys, then the values.
        if (this.u8() !== 0x72) throw UNSUPPORTED;
        const id = this.u8() & 0x3f;
        this.define(id);
        return this.recordBody(this.structures[id]!);
      }
      case 0xd9:
      case 0xda:
      case 0xdb:
        this.at--;
        return this.writeString(this.stringLength());
      case 0xdc:
      case 0xdd:
        this.at--;
        return this.array(this.arrayLength());
      default:
        throw UNSUPPORTED;
    }
  }

  define(id: number): void {
    // Records define the same few structures over and over: look the keys' bytes up
    // before decoding any string (decoding was a quarter of the time).
    const start = this.at;
    const n = this.arrayLength();
    for (let i = 0; i < n; i++) {
      const length = this.stringLength();
      if (length < 0) throw UNSUPPORTED;
      this.take(length);
    }
    const raw = this.src.subarray(start, this.at);
    let hash = raw.length;
    for (let i = 0; i < raw.length; i++) hash = (Math.imul(hash, 31) + raw[i]!) | 0;
    let structure = STRUCTURES.get(hash);
    if (structure === undefined || !sameBytes(structure.raw, raw)) {
      const end = this.at;
      this.at = start;
      this.arrayLength();
      const keys: string[] = new Array(n);
      const json: Uint8Array[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const key = this.readString();
        if (key === "__proto__") throw UNSUPPORTED;
        keys[i] = key;
        json[i] = encoder.encode(JSON.stringify(key) + ":");
      }
      this.at = end;
      structure = { keys, json, raw: raw.slice() };
      if (STRUCTURES.size >= 10_000) STRUCTURES.clear();
      STRUCTURES.set(hash, structure);
    }
    const previous = this.structures[id];
    // Walking a record's bytes twice defines its structures twice, identically; a
    // different structure under a used id (id reuse) is left to the general path.
    if (previous !== undefined && previous !== structure) throw UNSUPPORTED;
    this.structures[id] = structure;
  }

  record(id: number): void {
    const structure = this.structures[id];
    if (structure === undefined) return this.ascii(String(0x40 + id)); // a plain fixint
    this.recordBody(structure);
  }

  recordBody(structure: Structure): void {
    this.byte(0x7b);
    this.members(structure);
    this.byte(0x7d);
  }

  /** Writes a record's members (no braces); leaves `undefined` values (unsupported) to the general path. */
  members(structure: Structure): void {
    const json = structure.json;
    for (let i = 0; i < json.length; i++) {
      if (i > 0) {
        this.byte(0x2c);
      }
      this.bytes(json[i]!);
      this.value();
    }
  }

  array(n: number): void {
    this.byte(0x5b);
    for (let i = 0; i < n; i++) {
      if (i > 0) {
        this.byte(0x2c);
      }
      this.value();
    }
    this.byte(0x5d);
  }

  /** Consumes a record's header (definition with its keys, or reference) and returns its structure; its values follow. */
  recordHeader(): Structure {
    const token = this.u8();
    if (token === 0xd4) {
      if (this.u8() !== 0x72) throw UNSUPPORTED;
      const id = this.u8() & 0x3f;
      this.define(id);
      return this.structures[id]!;
    }
    // An empty map unpacks as an empty Map: no fields, as JSON.stringify sees it.
    if (token === 0x80) return EMPTY;
    const structure = token >= 0x40 && token < 0x80 ? this.structures[token & 0x3f] : undefined;
    if (structure === undefined) throw UNSUPPORTED;
    return structure;
  }

  /** Moves the cursor past one value (defining any record structure it holds). */
  skipValue(): void {
    const saved = this.pos;
    this.value();
    this.pos = saved;
  }

  transcode(payload: Uint8Array): Uint8Array {
    this.reset(payload);
    if (this.arrayLength() !== 2) throw UNSUPPORTED;
    const templateCount = this.arrayLength();
    // Each template's structure and its members as JSON, copied into each of its events.
    const templates: Structure[] = new Array(templateCount);
    const templateJson: Uint8Array[] = new Array(templateCount);
    for (let i = 0; i < templateCount; i++) {
      const structure = this.recordHeader();
      const mark = this.pos;
      this.members(structure);
      templates[i] = structure;
      templateJson[i] = this.buf.slice(mark, this.pos);
      this.pos = mark;
    }
    const rows = this.arrayLength();
    for (let r = 0; r < rows; r++) {
      if (this.arrayLength() !== 7) throw UNSUPPORTED;
      this.bytes(TS);
      this.value(); // ts_ms
      const severityAt = this.at;
      this.skipValue();
      const severity = readSmallInt(this.src, severityAt, this.at);
      this.bytes(LEVEL_BYTES.get(levelOfSeverity(severity))!);
      this.ascii(String(severity));
      this.bytes(EVENT);
      this.value(); // event name: a string, or the general path
      if (this.buf[this.pos - 1] !== 0x22) throw UNSUPPORTED;
      this.bytes(PRODUCER);
      this.value();
      if (this.buf[this.pos - 1] !== 0x22) throw UNSUPPORTED;
      this.bytes(SEQ);
      this.value();
      const bAt = this.at;
      this.skipValue();
      const b = readSmallInt(this.src, bAt, this.at);
      this.bytes(FIELDS);
      const call = this.recordHeader();
      let wroteTemplate = false;
      if (b !== -1) {
        const structure = templates[b];
        if (structure === undefined) throw UNSUPPORTED;
        for (const key of call.keys) {
          const c = key.charCodeAt(0);
          if (structure.keys.includes(key) || (c >= 48 && c <= 57)) throw UNSUPPORTED;
        }
        const json = templateJson[b]!;
        this.bytes(json);
        wroteTemplate = json.length > 0;
      }
      if (call.keys.length > 0) {
        if (wroteTemplate) {
          this.byte(0x2c);
        }
        this.members(call);
      }
      this.bytes(END);
    }
    if (this.at !== this.src.length) throw UNSUPPORTED;
    return this.buf.subarray(0, this.pos);
  }
}

/** A fixint or int8/16 value between `start` and `end`, as the row's small integer fields hold. */
function readSmallInt(src: Uint8Array, start: number, end: number): number {
  const token = src[start]!;
  if (end === start + 1) {
    if (token < 0x40) return token;
    if (token >= 0xe0) return token - 0x100;
  }
  if (token === 0xcc && end === start + 2) return src[start + 1]!;
  if (token === 0xd0 && end === start + 2) return (src[start + 1]! << 24) >> 24;
  throw UNSUPPORTED;
}

const transcoder = new Transcoder();

/**
 * The record payload's events as JSON Lines, UTF-8 encoded; or null when
 * the payload holds something only the general path (`payloadToJsonLines`)
 * handles. The result is a view into a reused buffer: use it before the
 * next call.
 *
 * @example Transcode a record
 * ```ts
 * import { payloadToJsonBytes } from "./jsonl_transcoder.ts";
 * import { payloadToJsonLines } from "./jsonl.ts";
 * import { packEvents } from "../store/payload_codec.ts";
 * import assert from "node:assert/strict";
 * const payload = packEvents([{
 *   ts_ms: 1.5, level: "info", severity: 9, event: "e", producer: "p.1", seq: 1, fields: { n: 1 },
 * }]).slice();
 * const bytes = payloadToJsonBytes(payload);
 * assert.equal(new TextDecoder().decode(bytes!), payloadToJsonLines(payload));
 * ```
 */
export function payloadToJsonBytes(payload: Uint8Array): Uint8Array | null {
  try {
    return transcoder.transcode(payload);
  } catch (error) {
    if (error === UNSUPPORTED || error instanceof RangeError || error instanceof TypeError) {
      return null;
    }
    throw error;
  }
}
