/**
 * Ring records straight to record payloads, for a worker whose batch no one
 * reads as events (no observer, no sink): {@linkcode PayloadTranscoder} writes
 * the MessagePack of docs/internals.md "Payload" from the ring's bytes, with
 * msgpackr's record extension, without building a `LogEvent` per record. It
 * handles events of a shape (docs/internals.md "Shapes by reference") whose
 * values are ASCII strings, numbers, booleans, null or undefined; any other
 * record goes through the {@linkcode Decoder} and `packEvents`' own row
 * packing, spliced into the same payload, so every record comes out as
 * `unpackEvents` reads today's (tests/store/payload_transcoder_test.ts).
 *
 * @module
 */
import type { Decoder, DecoderDefinition } from "../wire/decoder.ts";
import { FLAG_BINDINGS, FLAG_SHAPE } from "../wire/ring.ts";
import { Tag } from "../wire/value_format.ts";
import { isShortAscii } from "../wire/short_strings.ts";
import { BOUND_FIELDS, type BoundEvent, flowIdOf } from "../event.ts";
import { SEVERITY } from "../level.ts";
import { packRow, packsAsIs, packTemplates } from "./payload_codec.ts";
import { isFlowId } from "./segment_format.ts";
import type { PackedPayload } from "./record.ts";

// msgpackr's record extension: fixext1 of type 0x72 defines structure `id`
// (0x40–0x7f) inline, a later byte `id` reads values by it.
const RECORD_EXT = 0x72;
const FIRST_ID = 0x40;
const LAST_ID = 0x7f;

const utf8 = new TextEncoder();

// #flowAt when the event's flow_id is its shape's constant.
const FLOW_CONSTANT = -2;

// What a shape costs once: its key array and name as msgpack, where flow_id is,
// and each key's constant as msgpack (null: none, or not ASCII: the decoder's path).
interface ShapeInfo {
  keys: Uint8Array;
  event: Uint8Array;
  flowIndex: number;
  constants: (DataView | null)[];
  // Their bytes together: what CONSTANT values may add to an event's msgpack.
  constantBytes: number;
  // flow_id's constant and its ASCII bytes (null: none).
  flowConstant: string | null;
  flowConstantBytes: Uint8Array | null;
}

interface Group {
  flowId: string | null;
  // The flow id's bytes when it came from an ASCII value: the next event's
  // compare without building a string.
  flowBytes: Uint8Array | null;
  buf: Uint8Array;
  view: DataView;
  pos: number;
  count: number;
  errorCount: number;
  maxSeverity: number;
  minTs: number;
  maxTs: number;
  templates: Record<string, unknown>[];
  templateIndex: Map<object, number>;
  // Structures this payload has defined so far, by shape.
  ids: Map<ShapeInfo, number>;
  // The last shape written and its id: one compare instead of the Map.
  lastInfo: ShapeInfo | null;
  lastId: number;
  nextId: number;
}

const shapeInfos = new WeakMap<object, ShapeInfo | null>();

function shapeInfo(def: DecoderDefinition): ShapeInfo | null {
  let info = shapeInfos.get(def);
  if (info !== undefined) return info;
  const keys = def.keys!;
  info = null;
  // A key msgpackr would rename or change, or a repeated one, takes the slow path.
  if (
    new Set(keys).size === keys.length && packsAsIs(def.event) &&
    keys.every((k) => k !== "__proto__" && packsAsIs(k))
  ) {
    const parts = keys.map((k) => strBytes(k));
    let size = 5;
    for (const p of parts) size += p.length;
    const out = new Uint8Array(size);
    let at = arrayHeader(out, 0, keys.length);
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    const flowIndex = keys.indexOf("flow_id");
    const constants = keys.map((_, i) => {
      const c = def.constants?.[i];
      if (c === undefined || !isShortAscii(c, c.length)) return null;
      const b = strBytes(c);
      return new DataView(b.buffer, b.byteOffset, b.byteLength);
    });
    const flowConstant = flowIndex >= 0 && constants[flowIndex] !== null
      ? def.constants![flowIndex]!
      : null;
    info = {
      keys: out.slice(0, at),
      event: strBytes(def.event),
      flowIndex,
      constants,
      constantBytes: constants.reduce((sum, c) => sum + (c?.byteLength ?? 0), 0),
      flowConstant,
      flowConstantBytes: flowConstant === null ? null : utf8.encode(flowConstant),
    };
  }
  shapeInfos.set(def, info);
  return info;
}

function strBytes(s: string): Uint8Array {
  const b = utf8.encode(s);
  const out = new Uint8Array(b.length + 5);
  const at = strHeader(out, 0, b.length);
  out.set(b, at);
  return out.slice(0, at + b.length);
}

function strHeader(out: Uint8Array, at: number, len: number): number {
  if (len < 0x20) {
    out[at] = 0xa0 | len;
    return at + 1;
  }
  if (len < 0x100) {
    out[at] = 0xd9;
    out[at + 1] = len;
    return at + 2;
  }
  if (len < 0x10000) {
    out[at] = 0xda;
    out[at + 1] = len >>> 8;
    out[at + 2] = len & 0xff;
    return at + 3;
  }
  out[at] = 0xdb;
  out[at + 1] = len >>> 24;
  out[at + 2] = (len >>> 16) & 0xff;
  out[at + 3] = (len >>> 8) & 0xff;
  out[at + 4] = len & 0xff;
  return at + 5;
}

function arrayHeader(out: Uint8Array, at: number, n: number): number {
  if (n < 0x10) {
    out[at] = 0x90 | n;
    return at + 1;
  }
  if (n < 0x10000) {
    out[at] = 0xdc;
    out[at + 1] = n >>> 8;
    out[at + 2] = n & 0xff;
    return at + 3;
  }
  out[at] = 0xdd;
  out[at + 1] = n >>> 24;
  out[at + 2] = (n >>> 16) & 0xff;
  out[at + 3] = (n >>> 8) & 0xff;
  out[at + 4] = n & 0xff;
  return at + 5;
}

// Group buffers kept for the next batch, and the largest kept: a batch of
// 1,024 events of 100 bytes each, for a few flows.
const SPARE_BUFFERS = 4;
const SPARE_MAX_BYTES = 256 << 10;
// The largest payload buffer kept for the next batch.
const MAX_KEPT_PAYLOADS = 1 << 20;

/**
 * Transcodes the records of one producer's batch into one payload per flow,
 * in batch order. Definitions still go to the producer's decoder, which this
 * reads shapes and bindings from.
 */
export class PayloadTranscoder {
  readonly #decoder: Decoder;
  readonly #producer: string;
  readonly #producerBytes: Uint8Array | null;
  #groups: Group[] = [];
  // Group buffers of earlier batches, grown already: a batch that starts each
  // group at 1 KiB reallocates and copies it seven times on its way to 100 KiB.
  readonly #spare: Uint8Array[] = [];
  #payloads = new Uint8Array(0);
  readonly #byFlow = new Map<string, Group>();
  #noFlow: Group | null = null;
  #last: Group | null = null;
  // One event's values, written before its group is known.
  #scratch = new Uint8Array(1024);
  #scratchView = new DataView(this.#scratch.buffer);
  #bytes: Uint8Array = new Uint8Array(0);
  #view: DataView = new DataView(new ArrayBuffer(0));
  #flowAt = -1;
  #flowLen = 0;
  #lastDef: DecoderDefinition | null = null;
  #lastInfo: ShapeInfo | null = null;

  constructor(decoder: Decoder, producer: string) {
    this.#decoder = decoder;
    this.#producer = producer;
    this.#producerBytes = packsAsIs(producer) ? strBytes(producer) : null;
  }

  /** Events added since the last {@linkcode PayloadTranscoder.take}. */
  count = 0;

  /**
   * Adds the event record `bytes[start..end)` (without its length word).
   * Throws a `RecordDecodeError` for a record the decoder refuses, and adds
   * nothing then.
   */
  add(bytes: Uint8Array, start: number, end: number): void {
    if (!this.#fast(bytes, start, end)) this.#slow(bytes, start, end);
    this.count++;
  }

  /**
   * The payloads of the events added so far, and starts a new batch. Their
   * bytes are this transcoder's, valid until the next call: write or copy them.
   */
  take(): PackedPayload[] {
    const out: PackedPayload[] = [];
    let size = 0;
    const templates: Uint8Array[] = [];
    for (const g of this.#groups) {
      const t = packTemplates(g.templates);
      templates.push(t);
      size += 1 + t.length + 5 + g.pos;
    }
    // One buffer for every take while it suffices: a fresh one per batch costs
    // its zeroing and, where memory is mapped on first touch, its page faults.
    let payloads = this.#payloads;
    if (payloads.length < size) {
      payloads = new Uint8Array(Math.max(size, 2 * payloads.length));
      if (payloads.length <= MAX_KEPT_PAYLOADS) this.#payloads = payloads;
    }
    let at = 0;
    for (const [i, g] of this.#groups.entries()) {
      const start = at;
      const t = templates[i]!;
      payloads[at++] = 0x92;
      payloads.set(t, at);
      at = arrayHeader(payloads, at + t.length, g.count);
      payloads.set(g.buf.subarray(0, g.pos), at);
      at += g.pos;
      if (this.#spare.length < SPARE_BUFFERS && g.buf.length <= SPARE_MAX_BYTES) {
        this.#spare.push(g.buf);
      }
      out.push({
        flowId: g.flowId,
        payload: payloads.subarray(start, at),
        eventCount: g.count,
        errorCount: g.errorCount,
        maxSeverity: g.maxSeverity,
        minTs: g.minTs,
        maxTs: g.maxTs,
      });
    }
    this.#groups = [];
    this.#byFlow.clear();
    this.#noFlow = null;
    this.#last = null;
    this.count = 0;
    return out;
  }

  // Today's path for one record: decode, then packEvents' row packing. The
  // spliced bytes define msgpackr's own structures, so this group's ids start over.
  #slow(bytes: Uint8Array, start: number, end: number): void {
    const event = this.#decoder.decode(bytes, start, end, this.#producer);
    const key = flowIdOf(event);
    const g = this.#groupOf(key, typeof key === "string" && key === this.#last?.flowId, null);
    const bound = (event as BoundEvent)[BOUND_FIELDS];
    const b = bound === undefined ? -1 : this.#template(g, bound[0]);
    const row = packRow(event, b);
    this.#ensure(g, row.length);
    g.buf.set(row, g.pos);
    g.pos += row.length;
    g.ids.clear();
    g.lastInfo = null;
    g.nextId = FIRST_ID;
    this.#count(g, event.severity, event.ts_ms);
  }

  #template(g: Group, template: Record<string, unknown>): number {
    let b = g.templateIndex.get(template);
    if (b === undefined) {
      b = g.templates.length;
      g.templates.push(template);
      g.templateIndex.set(template, b);
    }
    return b;
  }

  #count(g: Group, severity: number, ts: number): void {
    g.count++;
    if (severity > g.maxSeverity) g.maxSeverity = severity;
    if (severity >= SEVERITY.error) g.errorCount++;
    if (ts < g.minTs) g.minTs = ts;
    if (ts > g.maxTs) g.maxTs = ts;
  }

  // An event of a known shape with plain values; false (nothing written) otherwise.
  #fast(bytes: Uint8Array, start: number, end: number): boolean {
    const flags = bytes[start + 13]!;
    if ((flags & (FLAG_SHAPE | FLAG_BINDINGS)) !== FLAG_SHAPE || this.#producerBytes === null) {
      return false;
    }
    if (end - start < 24) return false;
    if (bytes !== this.#bytes) {
      this.#bytes = bytes;
      this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const dv = this.#view;
    const n = dv.getUint16(start + 14, true);
    const bindId = dv.getUint32(start + 16, true);
    const def = this.#decoder.definition(dv.getUint32(start + 20, true));
    if (def === undefined || def.keys === null || def.keys.length !== n) return false;
    let template: Record<string, unknown> | null = null;
    if (bindId !== 0) {
      const bound = this.#decoder.definition(bindId);
      if (bound === undefined || bound.fields === null) return false;
      template = bound.fields;
    }
    // Consecutive events mostly share a shape: one compare instead of the WeakMap.
    let info = this.#lastInfo;
    if (def !== this.#lastDef) {
      info = shapeInfo(def);
      this.#lastDef = def;
      this.#lastInfo = info;
    }
    if (info === null) return false;
    const most = 3 * (end - start) + info.constantBytes + 16;
    if (this.#scratch.length < most) {
      this.#scratch = new Uint8Array(most + 1008);
      this.#scratchView = new DataView(this.#scratch.buffer);
    }
    this.#flowAt = -1;
    const size = this.#values(bytes, dv, start + 24, end, n, info);
    if (size < 0) return false;
    // The group, as groupByFlow finds it: a call field overrides a binding.
    let g: Group;
    if (this.#flowAt >= 0) {
      g = this.#flowGroup(bytes);
    } else if (this.#flowAt === FLOW_CONSTANT) {
      const flow = info.flowConstant!;
      g = this.#groupOf(flow, flow === this.#last?.flowId, info.flowConstantBytes);
    } else if (info.flowIndex >= 0) {
      g = this.#groupOf(null, false, null); // a flow_id that is not a string
    } else if (template !== null) {
      const key = template.flow_id;
      g = this.#groupOf(key, typeof key === "string" && key === this.#last?.flowId, null);
    } else {
      g = this.#groupOf(undefined, false, null);
    }
    const seq = dv.getUint32(start, true);
    const ts = dv.getFloat64(start + 4, true);
    const severity = bytes[start + 12]!;
    this.#ensure(g, 40 + info.event.length + this.#producerBytes.length + info.keys.length + size);
    const out = g.buf;
    const ov = g.view;
    let at = g.pos;
    out[at++] = 0x97;
    at = writeNumber(out, ov, at, ts);
    at = writeNumber(out, ov, at, severity);
    out.set(info.event, at);
    at += info.event.length;
    out.set(this.#producerBytes, at);
    at += this.#producerBytes.length;
    at = writeNumber(out, ov, at, seq);
    at = writeNumber(out, ov, at, template === null ? -1 : this.#template(g, template));
    const id = info === g.lastInfo ? g.lastId : g.ids.get(info);
    if (id !== undefined) {
      g.lastInfo = info;
      g.lastId = id;
      out[at++] = id;
    } else {
      if (g.nextId > LAST_ID) {
        g.ids.clear(); // g.lastInfo is replaced below
        g.nextId = FIRST_ID;
      }
      const fresh = g.nextId++;
      g.ids.set(info, fresh);
      g.lastInfo = info;
      g.lastId = fresh;
      out[at++] = 0xd4;
      out[at++] = RECORD_EXT;
      out[at++] = fresh;
      out.set(info.keys, at);
      at += info.keys.length;
    }
    if (size < 512) copyWords(this.#scratchView, 0, ov, at, size);
    else out.set(this.#scratch.subarray(0, size), at);
    g.pos = at + size;
    this.#count(g, severity, ts);
    return true;
  }

  // The n values at bytes[p..end) as msgpack into the scratch: their size, or
  // -1 for a value the fast path leaves to the decoder.
  #values(
    bytes: Uint8Array,
    dv: DataView,
    p: number,
    end: number,
    n: number,
    info: ShapeInfo,
  ): number {
    const out = this.#scratch;
    const ov = this.#scratchView;
    const flow = info.flowIndex;
    let at = 0;
    for (let i = 0; i < n; i++) {
      if (p >= end) return -1;
      const tag = bytes[p++];
      switch (tag) {
        case Tag.ASCII: {
          if (p >= end) return -1;
          const len = bytes[p++]!;
          if (p + len > end) return -1;
          if (i === flow) {
            this.#flowAt = p;
            this.#flowLen = len;
          }
          at = strHeader(out, at, len);
          // Copied and checked 4 bytes at a time: no view allocated, a quarter of the steps.
          if (copyAscii(dv, p, ov, at, len) !== 0) return -1;
          at += len;
          p += len;
          break;
        }
        case Tag.INT:
          if (p + 4 > end) return -1;
          at = writeNumber(out, ov, at, dv.getInt32(p, true));
          p += 4;
          break;
        case Tag.FLOAT: {
          if (p + 8 > end) return -1;
          const v = dv.getFloat64(p, true);
          p += 8;
          if (v === 0 && 1 / v < 0) return -1;
          at = writeNumber(out, ov, at, v);
          break;
        }
        case Tag.CONSTANT: {
          const c = info.constants[i];
          if (c == null) return -1;
          if (i === flow) this.#flowAt = FLOW_CONSTANT;
          // By words, not set(): a builtin call costs more than a few bytes' copy.
          copyWords(c, 0, ov, at, c.byteLength);
          at += c.byteLength;
          break;
        }
        case Tag.NULL:
          out[at++] = 0xc0;
          break;
        case Tag.FALSE:
          out[at++] = 0xc2;
          break;
        case Tag.TRUE:
          out[at++] = 0xc3;
          break;
        case Tag.UNDEFINED:
          out[at++] = 0xd4;
          out[at++] = 0;
          out[at++] = 0;
          break;
        default:
          return -1;
      }
    }
    return at;
  }

  // The group of the flow id at this.#flowAt (ASCII bytes).
  #flowGroup(bytes: Uint8Array): Group {
    const p = this.#flowAt;
    const len = this.#flowLen;
    const last = this.#last;
    const known = last?.flowBytes;
    if (known != null && known.length === len) {
      let k = 0;
      while (k < len && known[k] === bytes[p + k]) k++;
      if (k === len) return last!;
    }
    let s = "";
    for (let k = 0; k < len; k++) s += String.fromCharCode(bytes[p + k]!);
    return this.#groupOf(s, false, bytes.slice(p, p + len));
  }

  // groupByFlow's rule (src/store/batch_encoder.ts): a string flow id that
  // isFlowId accepts is its own group, anything else goes with no flow.
  #groupOf(key: unknown, sameAsLast: boolean, flowBytes: Uint8Array | null): Group {
    if (sameAsLast) return this.#last!;
    let g: Group;
    if (typeof key === "string" && isFlowId(key)) {
      let found = this.#byFlow.get(key);
      if (found === undefined) {
        found = newGroup(key, flowBytes, this.#spare.pop());
        this.#byFlow.set(key, found);
        this.#groups.push(found);
      } else if (found.flowBytes === null) {
        // Begun by a decoded event: later ones compare bytes from now on.
        found.flowBytes = flowBytes;
      }
      g = found;
    } else {
      g = this.#noFlow ??= this.#pushed(newGroup(null, null, this.#spare.pop()));
    }
    this.#last = g;
    return g;
  }

  #pushed(g: Group): Group {
    this.#groups.push(g);
    return g;
  }

  #ensure(g: Group, more: number): void {
    if (g.pos + more <= g.buf.length) return;
    const next = new Uint8Array(Math.max(g.buf.length * 2, g.pos + more));
    next.set(g.buf.subarray(0, g.pos));
    g.buf = next;
    g.view = new DataView(next.buffer);
  }
}

function newGroup(
  flowId: string | null,
  flowBytes: Uint8Array | null,
  spare: Uint8Array | undefined,
): Group {
  // Grows by doubling: a batch may hold as many flows as events.
  const buf = spare ?? new Uint8Array(1024);
  return {
    flowId,
    flowBytes,
    buf,
    view: new DataView(buf.buffer),
    pos: 0,
    count: 0,
    errorCount: 0,
    maxSeverity: 0,
    minTs: Infinity,
    maxTs: -Infinity,
    templates: [],
    templateIndex: new Map(),
    ids: new Map(),
    lastInfo: null,
    lastId: 0,
    nextId: FIRST_ID,
  };
}

// Copies `len` bytes from `src` at `from` to `dst` at `to`, 4 at a time.
function copyWords(src: DataView, from: number, dst: DataView, to: number, len: number): void {
  let k = 0;
  for (; k + 4 <= len; k += 4) dst.setUint32(to + k, src.getUint32(from + k, true), true);
  for (; k < len; k++) dst.setUint8(to + k, src.getUint8(from + k));
}

// copyWords() for ASCII: nonzero when a byte is not (what was copied is then discarded).
function copyAscii(src: DataView, from: number, dst: DataView, to: number, len: number): number {
  let any = 0;
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    const w = src.getUint32(from + k, true);
    any |= w;
    dst.setUint32(to + k, w, true);
  }
  for (; k < len; k++) {
    const b = src.getUint8(from + k);
    any |= b;
    dst.setUint8(to + k, b);
  }
  return any & 0x80808080;
}

// A number as msgpackr writes it: the smallest integer form for a 32-bit
// integer (-0 included, as 0), else float64. With records, 0x40–0x7f are
// structure ids, so those integers take uint8.
function writeNumber(out: Uint8Array, ov: DataView, at: number, v: number): number {
  if (v >>> 0 === v) {
    if (v < 0x40) {
      out[at] = v;
      return at + 1;
    }
    if (v < 0x100) {
      out[at] = 0xcc;
      out[at + 1] = v;
      return at + 2;
    }
    if (v < 0x10000) {
      out[at] = 0xcd;
      ov.setUint16(at + 1, v);
      return at + 3;
    }
    out[at] = 0xce;
    ov.setUint32(at + 1, v);
    return at + 5;
  }
  if (v >> 0 === v) {
    if (v >= -0x20) {
      out[at] = v & 0xff;
      return at + 1;
    }
    if (v >= -0x80) {
      out[at] = 0xd0;
      out[at + 1] = v & 0xff;
      return at + 2;
    }
    if (v >= -0x8000) {
      out[at] = 0xd1;
      ov.setInt16(at + 1, v);
      return at + 3;
    }
    out[at] = 0xd2;
    ov.setInt32(at + 1, v);
    return at + 5;
  }
  out[at] = 0xcb;
  ov.setFloat64(at + 1, v);
  return at + 9;
}
