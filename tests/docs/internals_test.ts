/**
 * docs/internals.md against the code: every constant, slot, tag and offset
 * the page states is compared with what the code exports, and a ring and a
 * segment written by the real code are decoded with nothing but the
 * offsets, tags and rules the page gives (a decoder written from the page,
 * importing no decoder of flightlog's).
 */
import assert from "node:assert/strict";
import { addExtension, Unpackr } from "msgpackr/unpack";
import * as ring from "../../src/wire/ring.ts";
import { Decoder, Encoder, MAX_DECODE_DEPTH, Tag } from "../../src/wire/codec.ts";
import { PART_BYTES } from "../../src/wire/spill_text.ts";
import { FAILURE_BYTES } from "../../src/worker/start_failure.ts";
import { DEFAULT_HUNG_AFTER_MS, MAX_HUNG_WORKERS } from "../../src/transport/watchdog.ts";
import * as segment from "../../src/store/segment_format.ts";
import { createLogger } from "../../mod.ts";
import { ROOT } from "./_markdown.ts";

const PAGE = Deno.readTextFileSync(`${ROOT}docs/internals.md`);

/** The section of the page under `heading` (up to the next heading of any level). */
function section(heading: string): string {
  const at = PAGE.indexOf(`\n${heading}\n`);
  assert.ok(at >= 0, `docs/internals.md has a "${heading}" section`);
  const rest = PAGE.slice(at + heading.length + 2);
  const end = rest.search(/\n#{1,6} /);
  return end < 0 ? rest : rest.slice(0, end);
}

function num(text: string): number {
  return text.startsWith("0x") ? parseInt(text, 16) : Number(text.replaceAll(",", ""));
}

/** `- offset N, S bytes, `name`` items of a section, in order (a size named by a field: NaN). */
function offsets(text: string): { offset: number; size: number; name: string }[] {
  return [...text.matchAll(/^- offset (\d+), (\d+|`\w+`) bytes?, `(\w+)`/gm)].map((m) => ({
    offset: Number(m[1]),
    size: Number(m[2]),
    name: m[3]!,
  }));
}

// Every constant the page may state as `NAME` = value, with the code's value.
const CONSTANTS: Record<string, number> = {
  HEADER_BYTES: ring.HEADER_BYTES,
  MIN_CAPACITY: ring.MIN_CAPACITY,
  RING_MAGIC: ring.RING_MAGIC,
  RING_VERSION: ring.RING_VERSION,
  RECORD_FIXED_BYTES: ring.RECORD_FIXED_BYTES,
  FLAG_INTERNAL: ring.FLAG_INTERNAL,
  FLAG_BINDINGS: ring.FLAG_BINDINGS,
  FLAG_SHAPE: ring.FLAG_SHAPE,
  FLAG_CONSTANTS: ring.FLAG_CONSTANTS,
  WRAP: ring.WRAP,
  PUBLISH_SHIFT: ring.PUBLISH_SHIFT,
  PUBLISH_MAX_BYTES: ring.PUBLISH_MAX_BYTES,
  DRAIN_CHUNK_BYTES: ring.DRAIN_CHUNK_BYTES,
  BANK_HEADER_BYTES: ring.BANK_HEADER_BYTES,
  CONTROL_BYTES: ring.CONTROL_BYTES,
  MAX_DECODE_DEPTH,
  FAILURE_BYTES,
  PART_BYTES,
  DEFAULT_HUNG_AFTER_MS,
  MAX_HUNG_WORKERS,
  FILE_HEADER_SIZE: segment.FILE_HEADER_SIZE,
  FORMAT_VERSION: segment.FORMAT_VERSION,
  FORMAT_VERSION_2: segment.FORMAT_VERSION_2,
  FILE_HEADER_SIZE_V2: segment.FILE_HEADER_SIZE_V2,
  RECORD_HEADER_SIZE: segment.RECORD_HEADER_SIZE,
  RECORD_MAGIC: segment.RECORD_MAGIC,
  MAX_PAYLOAD_BYTES: segment.MAX_PAYLOAD_BYTES,
  RECORD_CRC_START: segment.RECORD_CRC_START,
  FLAG_HAS_FLOW: segment.FLAG_HAS_FLOW,
  MAX_FLOW_ID_LENGTH: segment.MAX_FLOW_ID_LENGTH,
  MAX_FLOW_ID_BYTES: segment.MAX_FLOW_ID_BYTES,
  EXT_NEGATIVE_ZERO: segment.EXT_NEGATIVE_ZERO,
  EXT_OWN_PROTO_KEY: segment.EXT_OWN_PROTO_KEY,
  EXT_WTF8_STRING: segment.EXT_WTF8_STRING,
};

// Every constant as the page states it (`NAME` = value): what the decoders below use.
const STATED: Record<string, number> = Object.fromEntries(
  [...PAGE.matchAll(/`([A-Z][A-Z0-9_]*)`\s*=\s*(0x[0-9a-f]+|\d[\d,]*)/g)].map((m) => [
    m[1]!,
    num(m[2]!),
  ]),
);

/** A constant the page states, for the decoders written from it. */
function stated(name: string): number {
  const value = STATED[name];
  assert.ok(value !== undefined, `docs/internals.md states ${name}`);
  return value;
}

Deno.test("docs/internals.md states every constant as the code has it", () => {
  for (const [name, value] of Object.entries(STATED)) {
    assert.ok(name in CONSTANTS, `the page states ${name}, unknown to this test: add it here`);
    assert.equal(value, CONSTANTS[name], `${name} on the page`);
  }
  assert.deepEqual(Object.keys(STATED).sort(), Object.keys(CONSTANTS).sort());
});

Deno.test("docs/internals.md gives every ring header slot its index and byte", () => {
  const slots = [
    ...PAGE.matchAll(/^- `(\w+)`: (Int32|Float64) slot (\d+) \(byte (\d+)\)/gm),
  ];
  const used = new Set<number>();
  for (const [, name, kind, slot, byte] of slots) {
    const width = kind === "Int32" ? 4 : 8;
    assert.equal((ring as unknown as Record<string, number>)[name!], Number(slot), name);
    assert.equal(Number(byte), Number(slot) * width, `${name}: byte = slot × ${width}`);
    for (let b = Number(byte); b < Number(byte) + width; b++) {
      assert.ok(!used.has(b) && b < ring.HEADER_BYTES, `${name} overlaps or overflows`);
      used.add(b);
    }
  }
  assert.deepEqual(slots.map((m) => m[1]).sort(), [
    "CAPACITY_SLOT",
    "CLOSED",
    "DROPPED",
    "EMITTED",
    "HEAD",
    "INTERNAL",
    "LOST",
    "MAGIC_SLOT",
    "MIRROR_SLOT",
    "PERSISTED",
    "REGISTERED",
    "STORED",
    "TAIL",
    "TAIL_NEXT",
    "TAKEN",
    "TAKEN_NEXT",
    "VERSION_SLOT",
  ]);
});

Deno.test("docs/internals.md gives every control slot its index, byte and states", () => {
  const slots = [...PAGE.matchAll(/^- `(\w+)`: control slot (\d+) \(byte (\d+)\)\.(.*)$/gm)];
  for (const [, name, slot, byte] of slots) {
    assert.equal((ring as unknown as Record<string, number>)[name!], Number(slot), name);
    assert.equal(Number(byte), Number(slot) * 4, name);
    assert.ok(Number(byte) + 4 <= ring.CONTROL_BYTES, name);
  }
  assert.deepEqual(slots.map((m) => m[1]).sort(), [
    "ALIVE",
    "DURABLE",
    "FLUSH_ACK",
    "FLUSH_REQ",
    "GENERATION",
    "RESUME",
    "SLEEPING",
    "STATE",
  ]);
  const state = slots.find((m) => m[1] === "STATE")![4]!;
  const states = Object.fromEntries(
    [...state.matchAll(/(\d) (starting|running|failed|closed)/g)].map((m) => [m[2], Number(m[1])]),
  );
  assert.deepEqual(states, { ...ring.ConsumerState });
});

Deno.test("docs/internals.md lists every value tag with its byte", () => {
  const tags = [...section("### Values").matchAll(/^- `0x([0-9a-f]{2})` `(\w+)`/gm)];
  assert.deepEqual(
    Object.fromEntries(tags.map((m) => [m[2], parseInt(m[1]!, 16)])),
    { ...Tag },
  );
});

Deno.test("docs/internals.md gives the segment headers' fields as segment_format.ts has them", () => {
  const file = offsets(section("### File header"));
  const record = offsets(section("### Record header"));
  const expectFields = (
    fields: { offset: number; size: number; name: string }[],
    code: Readonly<Record<string, number>>,
  ) => {
    assert.deepEqual(
      Object.fromEntries(fields.map((f) => [f.name, f.offset])),
      { ...code },
    );
  };
  expectFields(file, segment.FILE_HEADER);
  expectFields(record, segment.RECORD_HEADER);
  // Every byte of the fixed headers is named or stated reserved.
  const reserved = [
    ...section("### File header").matchAll(/^- offset (\d+), (\d+) bytes: reserved/gm),
  ]
    .map((m) => ({ offset: Number(m[1]), size: Number(m[2]), name: "reserved" }));
  const all = [...file, ...reserved].sort((a, b) => a.offset - b.offset);
  let at = 0;
  for (const f of all) {
    assert.equal(f.offset, at, `file header byte ${at}`);
    at += f.size;
  }
  assert.equal(at, segment.FILE_HEADER_SIZE);
  at = 0;
  for (const f of record.filter((f) => f.name !== "flowId")) {
    assert.equal(f.offset, at, `record header byte ${at}`);
    at += f.size;
  }
  assert.equal(at, segment.RECORD_HEADER_SIZE);
});

// ---------------------------------------------------------------------------
// A decoder written from the page.

const RECORD = Object.fromEntries(offsets(section("### Records")).map((f) => [f.name, f]));
const TAGS = Object.fromEntries(
  [...section("### Values").matchAll(/^- `0x([0-9a-f]{2})` `(\w+)`/gm)].map((m) => [
    parseInt(m[1]!, 16),
    m[2]!,
  ]),
);
const RING_SLOTS = Object.fromEntries(
  [...PAGE.matchAll(/^- `(\w+)`: (?:Int32|Float64) slot \d+ \(byte (\d+)\)/gm)].map((m) => [
    m[1]!,
    Number(m[2]),
  ]),
);
const utf8 = new TextDecoder();

/**
 * WTF-8 as "### WTF-8" describes it: UTF-8, except that a 3-byte sequence
 * whose value is U+D800–U+DFFF is that single (lone) code unit.
 */
function decodeWtf8FromPage(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    const n = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
    let cp = n === 1 ? b : b & (0xff >> (n + 1));
    for (let k = 1; k < n; k++) cp = (cp << 6) | (bytes[i + k]! & 0x3f);
    out += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
    i += n;
  }
  return out;
}

interface PageEvent {
  seq: number;
  ts_ms: number;
  severity: number;
  internal: boolean;
  event: string;
  fields: Record<string, unknown>;
}

/** Reads values as "### Values" describes them. */
class ValueReader {
  constructor(readonly view: DataView, public pos: number) {}

  #len(): number {
    const n = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return n;
  }

  #text(n: number): string {
    const at = this.view.byteOffset + this.pos;
    this.pos += n;
    return utf8.decode(new Uint8Array(this.view.buffer, at, n));
  }

  pairs(n: number, into: Record<string, unknown> = {}): Record<string, unknown> {
    for (let i = 0; i < n; i++) {
      const key = this.value() as string;
      Object.defineProperty(into, key, {
        value: this.value(),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return into;
  }

  value(): unknown {
    const tag = TAGS[this.view.getUint8(this.pos++)];
    switch (tag) {
      case "NULL":
        return null;
      case "UNDEFINED":
        return undefined;
      case "FALSE":
        return false;
      case "TRUE":
        return true;
      case "INT":
        return this.view.getInt32((this.pos += 4) - 4, true);
      case "FLOAT":
        return this.view.getFloat64((this.pos += 8) - 8, true);
      case "STR":
      case "PLACEHOLDER":
        return this.#text(this.#len());
      case "WTF8": {
        const n = this.#len();
        const at = this.view.byteOffset + this.pos;
        this.pos += n;
        return decodeWtf8FromPage(new Uint8Array(this.view.buffer, at, n));
      }
      case "ASCII":
        return this.#text(this.view.getUint8(this.pos++));
      case "BIGINT":
        return BigInt(this.#text(this.#len()));
      case "DATE":
        return new Date(this.view.getFloat64((this.pos += 8) - 8, true));
      case "ERROR": {
        const error: Record<string, unknown> = { name: this.value(), message: this.value() };
        const stack = this.value();
        if (stack !== null) error.stack = stack;
        const cause = this.value();
        if (cause !== undefined) error.cause = cause;
        return this.pairs(this.#len(), error);
      }
      case "OBJECT":
        return this.pairs(this.#len());
      case "ARRAY":
        return Array.from({ length: this.#len() }, () => this.value());
      default:
        throw new Error(`tag ${tag} is not on the page`);
    }
  }
}

/** Follows "Decoding a ring"; returns the events and how many WRAP markers it passed. */
function decodeRingFromPage(
  buffer: ArrayBuffer,
): { events: PageEvent[]; wraps: number; shaped: number; constants: number } {
  const view = new DataView(buffer);
  assert.equal(view.getUint32(RING_SLOTS.MAGIC_SLOT!, true), stated("RING_MAGIC"));
  assert.equal(view.getUint32(RING_SLOTS.VERSION_SLOT!, true), stated("RING_VERSION"));
  const capacity = view.getUint32(RING_SLOTS.CAPACITY_SLOT!, true);
  const head = view.getUint32(RING_SLOTS.HEAD!, true);
  const tail = view.getUint32(RING_SLOTS.TAIL!, true);
  const used = (head - tail) >>> 0;
  const data = stated("HEADER_BYTES");
  const definitions = new Map<number, Record<string, unknown>>();
  const shapes = new Map<
    number,
    { event: string; keys: string[]; constants: unknown[] | null }
  >();
  const events: PageEvent[] = [];
  let offset = tail & (capacity - 1);
  let walked = 0;
  let wraps = 0;
  let shapedEvents = 0;
  let constantValues = 0;
  while (walked < used) {
    const len = capacity - offset < 4 ? -1 : view.getUint32(data + offset, true);
    if (len === -1 || len === stated("WRAP")) {
      walked += capacity - offset;
      offset = 0;
      wraps++;
      continue;
    }
    const at = data + offset;
    const field = (name: string) => at + RECORD[name]!.offset;
    const flags = view.getUint8(field("flags"));
    const npairs = view.getUint16(field("npairs"), true);
    const bindId = view.getUint32(field("bind_id"), true);
    const reader = new ValueReader(view, at + stated("RECORD_FIXED_BYTES"));
    const definition = (flags & stated("FLAG_BINDINGS")) !== 0;
    const shaped = (flags & stated("FLAG_SHAPE")) !== 0;
    if (definition && shaped) {
      const event = reader.value() as string;
      const keys = Array.from({ length: npairs }, () => reader.value() as string);
      const constants = (flags & stated("FLAG_CONSTANTS")) === 0
        ? null
        : Array.from({ length: npairs }, () => reader.value());
      shapes.set(bindId, { event, keys, constants });
    } else if (definition) {
      reader.value();
      definitions.set(bindId, reader.pairs(npairs));
    } else {
      const fields = bindId === 0 ? {} : { ...definitions.get(bindId) };
      let name: string;
      if (shaped) {
        // An event of a shape: its id, then one value per key of the shape.
        const shape = shapes.get(view.getUint32(field("shape_id"), true))!;
        reader.pos = field("shape_id") + RECORD.shape_id!.size;
        name = shape.event;
        shapedEvents++;
        assert.equal(shape.keys.length, npairs);
        shape.keys.forEach((key, i) => {
          // CONSTANT: the key's constant from the definition.
          if (TAGS[view.getUint8(reader.pos)] === "CONSTANT") {
            reader.pos++;
            constantValues++;
            fields[key] = shape.constants![i];
          } else fields[key] = reader.value();
        });
      } else {
        name = reader.value() as string;
        reader.pairs(npairs, fields);
      }
      events.push({
        seq: view.getUint32(field("seq"), true),
        ts_ms: view.getFloat64(field("ts_ms"), true),
        severity: view.getUint8(field("severity")),
        internal: (flags & stated("FLAG_INTERNAL")) !== 0,
        event: name,
        fields,
      });
    }
    assert.equal(reader.pos, at + 4 + len, "a record's values end where its len says");
    const step = (4 + len + 3) & ~3;
    walked += step;
    offset = (offset + step) & (capacity - 1);
  }
  assert.equal(walked, used);
  return { events, wraps, shaped: shapedEvents, constants: constantValues };
}

function value(i: number): Record<string, unknown> {
  const error = Object.assign(new Error("boom", { cause: "disk" }), { code: "E_IO" });
  const kinds: Record<string, unknown>[] = [
    { n: i, half: i + 0.5, neg: -0, big: 12345678901234567890n },
    { text: `a long, non-ASCII text é ${"x".repeat(60 + (i % 40))}`, ok: true, no: false },
    { when: new Date(1_767_225_600_000 + i), nothing: null, missing: undefined },
    { error, fn: function named() {} },
    { nested: { a: [1, "two", { three: 3 }] }, map: new Map([["k", i]]), set: new Set([i]) },
    { lone: `\ud800 at ${i}`, "key \udfff": "low\udc00", pair: "\ud83d\ude00 and \udbff" },
  ];
  return kinds[i % kinds.length]!;
}

Deno.test("a ring written by RingProducer decodes from docs/internals.md alone", () => {
  const buffer = ring.createRingBuffer(8192, false) as ArrayBuffer;
  const producer = new ring.RingProducer(buffer, ring.createControlBuffer(false));
  const consumer = new ring.RingConsumer(buffer);
  const encoder = new Encoder();
  const definition = encoder.encodeBindings({ flow_id: "f-1", run_id: "r-1", step: 7 }, 1);
  new DataView(definition.buffer).setUint32(RECORD.seq!.offset, 1, true); // the epoch
  let seq = 0;
  const write = (fields: Record<string, unknown>, bindings: number) => {
    seq++;
    const len = encoder.encode(
      seq,
      1_767_225_600_000 + seq / 8,
      9 + (seq % 3) * 4,
      0,
      `e${seq}`,
      fields,
      bindings,
    );
    assert.ok(producer.write(encoder.buf, len));
  };
  // Fill most of the ring, drain it, then write across the end so a WRAP marker is needed.
  for (let i = 0; i < 24; i++) write(value(i), 0);
  consumer.drain(() => {});
  assert.ok(producer.write(definition, definition.length));
  for (let i = 0; i < 30; i++) write(value(i), i % 2 === 0 ? 1 : 0);
  // Events of a shape, as a producer writes them: the first in full, then the
  // shape's definition (epoch 1, id 2), then values only.
  encoder.shapes = true;
  encoder.epoch = 1;
  const shapedWrite = (i: number, bindings: number) => {
    seq++;
    const fields = { step_id: `step-${i}`, status: "ok", duration_ms: i + 0.5, "é\ud800": i };
    const len = encoder.encode(seq, 1_767_225_600_000 + seq, 9, 0, "step_end", fields, bindings);
    assert.ok(producer.write(encoder.buf, len));
  };
  shapedWrite(0, 0);
  const shape = encoder.pending!;
  encoder.pending = null;
  const shapeDefinition = encoder.encodeShape(shape, 2);
  new DataView(shapeDefinition.buffer).setUint32(RECORD.seq!.offset, 1, true); // the epoch
  assert.ok(
    producer.write(shapeDefinition, new DataView(shapeDefinition.buffer).getUint32(0, true) + 4),
  );
  shape.definition = { id: 2, epoch: 1 };
  for (let i = 1; i < 4; i++) shapedWrite(i, i % 2);
  assert.equal(encoder.pending, null);
  const dropped = encoder.encode(0, 1_767_225_601_000, 13, ring.FLAG_INTERNAL, "log.dropped", {
    count: 3,
  });
  assert.ok(producer.write(encoder.buf, dropped));

  const { events, wraps, shaped, constants } = decodeRingFromPage(buffer);
  assert.equal(shaped, 3, "three events refer to a shape");
  assert.equal(constants, 3, "each writes its status as the shape's constant");
  assert.ok(wraps >= 1, "the records cross the end of the data area");

  // The code's own decoder, on the same records, agrees field for field.
  const decoder = new Decoder();
  const expected: PageEvent[] = [];
  consumer.drain((bytes, start, end) => {
    if (Decoder.isDefinition(bytes, start)) return decoder.define(bytes, start, end);
    const event = decoder.decode(bytes, start, end, "p");
    expected.push({
      seq: event.seq,
      ts_ms: event.ts_ms,
      severity: event.severity,
      internal: Decoder.isInternal(bytes, start),
      event: event.event,
      fields: { ...event.fields },
    });
  });
  assert.equal(events.length, 35);
  assert.deepEqual(events, expected);
  assert.deepEqual(events.at(-2)!.fields, {
    flow_id: "f-1",
    run_id: "r-1",
    step: 7,
    step_id: "step-3",
    status: "ok",
    duration_ms: 3.5,
    "é\ud800": 3,
  });
  assert.deepEqual(events.at(-1), {
    seq: 0,
    ts_ms: 1_767_225_601_000,
    severity: 13,
    internal: true,
    event: "log.dropped",
    fields: { count: 3 },
  });
});

/** CRC32C as the page states it: reflected polynomial 0x82f63b78, init and final XOR ~0. */
function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const LEVELS: [number, string][] = [[21, "fatal"], [17, "error"], [13, "warn"], [9, "info"], [
  5,
  "debug",
], [1, "trace"]];

Deno.test("segment files written by a logger decode from docs/internals.md alone", async () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  const dir = await Deno.makeTempDir({ prefix: "flightlog-internals-" });
  try {
    const log = createLogger({ dir, exitHooks: false, store: { segmentBytes: 65_536 } });
    for (let i = 0; i < 60; i++) {
      const flow = log.child({ flow_id: `f-${i % 3}`, run_id: "r-1" });
      const fields = {
        i,
        step: `s-${i}`,
        text: "y".repeat(2000 + i * 3),
        at: new Date(i),
        ...(i % 4 === 0 ? { note: `lone \ud800 ${i}`, ["k\udc00"]: "\ufeffbom" } : {}),
        ...(i % 6 === 0 ? { zero: -0 } : {}),
      };
      if (i % 7 === 0) log.warn("no_flow", fields);
      else if (i % 5 === 0) flow.error("step_end", { ...fields, status: "failed" });
      else flow.info("step_end", fields);
      if (i % 20 === 19) await log.flush();
    }
    await log.flush();
    const stored = (await log.query({ limit: 1000 })).events;
    await log.close();

    const file = Object.fromEntries(offsets(section("### File header")).map((f) => [f.name, f]));
    const rec = Object.fromEntries(offsets(section("### Record header")).map((f) => [f.name, f]));
    // The file magic as the page writes it: "`magic`: `89 46 4C 4F 47 0D 0A 1A`".
    const magicText = /`magic`: `([0-9A-F]{2}(?: [0-9A-F]{2})*)`/.exec(section("### File header"));
    assert.ok(magicText !== null, "the page gives the file magic as hex bytes");
    const fileMagic = magicText[1]!.split(" ").map((b) => parseInt(b, 16));
    // The page's own readers of flightlog's extensions ("### Payload"), in place of the ones
    // mod.ts registered: 0x2d stands for -0, 0x57 carries WTF-8 bytes, 0x5f a [key, value, ...]
    // array.
    addExtension({ type: stated("EXT_NEGATIVE_ZERO"), read: () => -0 });
    addExtension({ type: stated("EXT_WTF8_STRING"), unpack: decodeWtf8FromPage });
    addExtension({
      type: stated("EXT_OWN_PROTO_KEY"),
      read: (entries: unknown[]) => {
        const object: Record<string, unknown> = {};
        for (let k = 0; k < entries.length; k += 2) {
          Object.defineProperty(object, String(entries[k]), {
            value: entries[k + 1],
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return object;
      },
    });
    const unpackr = new Unpackr({ useRecords: true });
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".flog"))
      .sort();
    assert.ok(names.length >= 2, "several segments");
    const decoded: Record<string, unknown>[] = [];
    let lastSeq = 0;
    for (const name of names) {
      const bytes = await Deno.readFile(`${dir}/${name}`);
      const view = new DataView(bytes.buffer);
      assert.deepEqual([...bytes.subarray(0, file.magic!.size)], fileMagic);
      assert.equal(view.getUint16(file.version!.offset, true), stated("FORMAT_VERSION"));
      // "Decoding a segment": records start at the header's own size.
      const headerSize = view.getUint16(file.headerSize!.offset, true);
      assert.equal(headerSize, stated("FILE_HEADER_SIZE"));
      assert.equal(
        view.getUint32(file.crc!.offset, true),
        crc32c(bytes.subarray(0, file.crc!.offset)),
      );
      const number = view.getUint32(file.segment!.offset, true);
      assert.equal(name, `seg-${number.toString(16).padStart(16, "0")}.flog`);
      let at = headerSize;
      while (at < bytes.length) {
        const u32 = (f: string) => view.getUint32(at + rec[f]!.offset, true);
        const f64 = (f: string) => view.getFloat64(at + rec[f]!.offset, true);
        assert.equal(u32("magic"), stated("RECORD_MAGIC"));
        const flowLength = view.getUint16(at + rec.flowLength!.offset, true);
        const payloadAt = at + rec.flowId!.offset + flowLength;
        const end = payloadAt + u32("payloadLength");
        assert.equal(u32("crc"), crc32c(bytes.subarray(at + stated("RECORD_CRC_START"), end)));
        const seq = u32("seq") + view.getUint32(at + rec.seq!.offset + 4, true) * 2 ** 32;
        assert.ok(seq > lastSeq, "record seq strictly increases");
        lastSeq = seq;
        const hasFlow = (view.getUint8(at + rec.flags!.offset) & stated("FLAG_HAS_FLOW")) !== 0;
        const flowId = hasFlow
          ? utf8.decode(bytes.subarray(at + rec.flowId!.offset, payloadAt))
          : undefined;
        const [bindings, rows] = unpackr.unpack(bytes.subarray(payloadAt, end)) as [
          Record<string, unknown>[],
          [number, number, string, string, number, number, Record<string, unknown>][],
        ];
        assert.equal(u32("eventCount"), rows.length);
        let errors = 0;
        let maxSeverity = 0;
        let minTs = Infinity;
        let maxTs = -Infinity;
        for (const [ts_ms, severity, event, producer, eventSeq, b, own] of rows) {
          const fields = b === -1 ? own : { ...bindings[b], ...own };
          assert.equal(fields.flow_id, flowId);
          if (severity >= 17) errors++;
          maxSeverity = Math.max(maxSeverity, severity);
          minTs = Math.min(minTs, ts_ms);
          maxTs = Math.max(maxTs, ts_ms);
          const level = LEVELS.find(([from]) => severity >= from)![1];
          decoded.push({ ts_ms, level, severity, event, producer, seq: eventSeq, fields });
        }
        assert.equal(u32("errorCount"), errors);
        assert.equal(view.getUint8(at + rec.maxSeverity!.offset), maxSeverity);
        assert.equal(f64("minTs"), minTs);
        assert.equal(f64("maxTs"), maxTs);
        at = end;
      }
      assert.equal(at, bytes.length, "records end where the file ends");
    }
    const order = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      String(a.producer).localeCompare(String(b.producer)) || Number(a.seq) - Number(b.seq);
    assert.equal(decoded.length, 60);
    assert.deepEqual(
      decoded.sort(order),
      stored.map((e) => ({ ...e, fields: { ...e.fields } })).sort(order),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
