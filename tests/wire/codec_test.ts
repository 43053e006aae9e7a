import assert from "node:assert/strict";
import fc from "fast-check";
import {
  Decoder,
  DEFAULT_LIMITS,
  Encoder,
  type Limits,
  RecordDecodeError,
  Tag,
} from "../../src/wire/codec.ts";
import { BOUND_FIELDS, type BoundEvent, hasWtf8Strings, type LogEvent } from "../../src/event.ts";
import { getRedactor } from "../../src/redact.ts";
import { FLAG_CONSTANTS, FLAG_SHAPE } from "../../src/wire/ring.ts";
import { anyString } from "../support/any_string.ts";

function roundTrip(fields: unknown, limits: Limits = DEFAULT_LIMITS, event = "ev"): LogEvent {
  const enc = new Encoder(limits);
  const len = enc.encode(
    7,
    1700000000000.5,
    9,
    0,
    event,
    fields as Record<string, unknown>,
  );
  return new Decoder().decode(enc.buf, 4, len, "p.0");
}

Deno.test("codec value tags are pinned", () => {
  assert.deepEqual(Tag, {
    NULL: 0,
    UNDEFINED: 1,
    FALSE: 2,
    TRUE: 3,
    INT: 4,
    FLOAT: 5,
    STR: 6,
    ASCII: 7,
    BIGINT: 8,
    DATE: 9,
    ERROR: 10,
    OBJECT: 11,
    ARRAY: 12,
    PLACEHOLDER: 13,
    WTF8: 14,
    CONSTANT: 15,
  });
  const enc = new Encoder();
  const len = enc.encode(1, 0, 9, 0, "e", { a: 1 }, 5);
  // len=31 | seq=1 | ts=0.0 | sev 9 | flags 0 | npairs 1 | bind_id 5 |
  // ASCII "e" | ASCII "a" | INT 1
  assert.deepEqual([...enc.buf.subarray(0, len)], [
    ...[31, 0, 0, 0],
    ...[1, 0, 0, 0],
    ...[0, 0, 0, 0, 0, 0, 0, 0],
    9,
    0,
    ...[1, 0],
    ...[5, 0, 0, 0],
    ...[7, 1, 0x65],
    ...[7, 1, 0x61],
    ...[4, 1, 0, 0, 0],
  ]);
  // A bindings definition: epoch slot 0 (stamped by the writer), ts 0,
  // severity 0, flags 2, npairs 1, bind_id 5, empty name, the pairs; padded.
  assert.deepEqual([...enc.encodeBindings({ a: 1 }, 5)], [
    ...[30, 0, 0, 0],
    ...[0, 0, 0, 0],
    ...[0, 0, 0, 0, 0, 0, 0, 0],
    0,
    2,
    ...[1, 0],
    ...[5, 0, 0, 0],
    ...[7, 0],
    ...[7, 1, 0x61],
    ...[4, 1, 0, 0, 0],
    ...[0, 0],
  ]);
});

Deno.test("Encoder.encode() round-trips every value kind", () => {
  const date = new Date(1700000000123);
  const cause = new RangeError("inner");
  const err = Object.assign(new TypeError("outer", { cause }), { code: "E_X" });
  const ev = roundTrip({
    s: "hello",
    u: "héllo wörld ✓ 🚀",
    long: "x".repeat(300),
    i: 42,
    neg: -7,
    f: 12.5,
    nz: -0,
    nan: NaN,
    inf: -Infinity,
    t: true,
    fa: false,
    n: null,
    und: undefined,
    big: 12345678901234567890123n,
    d: date,
    bad: new Date(NaN),
    err,
    obj: { a: { b: [1, "two", { c: null }] } },
    arr: [1, [2, [3]]],
    map: new Map<unknown, unknown>([["k", 1], [2, "two"]]),
    set: new Set([1, 2]),
  });
  assert.equal(ev.seq, 7);
  assert.equal(ev.ts_ms, 1700000000000.5);
  assert.equal(ev.level, "info");
  assert.equal(ev.severity, 9);
  assert.equal(ev.event, "ev");
  assert.equal(ev.producer, "p.0");
  const f = ev.fields;
  assert.equal(f.s, "hello");
  assert.equal(f.u, "héllo wörld ✓ 🚀");
  assert.equal(f.long, "x".repeat(300));
  assert.equal(f.i, 42);
  assert.equal(f.neg, -7);
  assert.equal(f.f, 12.5);
  assert.ok(Object.is(f.nz, -0));
  assert.ok(Number.isNaN(f.nan));
  assert.equal(f.inf, -Infinity);
  assert.equal(f.t, true);
  assert.equal(f.fa, false);
  assert.equal(f.n, null);
  assert.ok("und" in f && f.und === undefined);
  assert.equal(f.big, 12345678901234567890123n);
  assert.deepEqual(f.d, date);
  assert.ok(Number.isNaN((f.bad as Date).getTime()));
  const e = f.err as Record<string, unknown>;
  assert.equal(e.name, "TypeError");
  assert.equal(e.message, "outer");
  assert.equal(e.code, "E_X");
  assert.match(e.stack as string, /outer/);
  assert.equal((e.cause as Record<string, unknown>).message, "inner");
  assert.deepEqual(f.obj, { a: { b: [1, "two", { c: null }] } });
  assert.deepEqual(f.arr, [1, [2, [3]]]);
  assert.deepEqual(f.map, { k: 1, "2": "two" });
  assert.deepEqual(f.set, [1, 2]);
});

Deno.test("Encoder.encode() gives other values safe placeholders", () => {
  const f = roundTrip({
    fn: function named() {},
    sym: Symbol("s"),
    bytes: new Uint8Array(10),
    re: /x/g,
    wm: new WeakMap(),
    p: Promise.resolve(),
  }).fields;
  assert.equal(f.fn, "[Function: named]");
  assert.equal(f.sym, "[Symbol(s)]");
  assert.equal(f.bytes, "[Uint8Array(10)]");
  assert.equal(f.re, "[RegExp]");
  assert.equal(f.wm, "[WeakMap]");
  assert.equal(f.p, "[Promise]");
});

Deno.test("Encoder.encode() keeps a non-object fields argument as one field", () => {
  assert.deepEqual(roundTrip("just text").fields, { value: "just text" });
  assert.equal((roundTrip(new Error("e")).fields.err as Record<string, unknown>).message, "e");
  assert.deepEqual(roundTrip([1, 2]).fields, { value: [1, 2] });
});

Deno.test("Encoder.encode() survives hostile values without throwing or mutating", () => {
  const cyclic: Record<string, unknown> = { name: "c" };
  cyclic.self = cyclic;
  const throwing = {
    ok: 1,
    get bad(): never {
      throw new Error("getter");
    },
  };
  const hostileProxy = new Proxy({}, {
    ownKeys() {
      throw new Error("trap");
    },
  });
  const getProxy = new Proxy({ a: 1 }, {
    get() {
      throw new Error("get trap");
    },
  });
  const protoKey = JSON.parse(
    '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}',
  );
  const snapshot = JSON.stringify(protoKey);
  const f = roundTrip({ cyclic, throwing, hostileProxy, getProxy, protoKey }).fields;
  assert.deepEqual(f.cyclic, { name: "c", self: "[Circular]" });
  assert.deepEqual(f.throwing, { ok: 1, bad: "[Unserializable]" });
  assert.deepEqual(f.hostileProxy, { "…": "[Unserializable fields]" });
  assert.deepEqual(f.getProxy, { a: "[Unserializable]" });
  const decoded = f.protoKey as Record<string, unknown>;
  assert.ok(Object.hasOwn(decoded, "__proto__"), "__proto__ stays an own key");
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(({} as Record<string, unknown>).x, undefined);
  assert.equal(JSON.stringify(protoKey), snapshot, "caller's object unchanged");
});

Deno.test("Encoder.encode() truncates at the documented limits with visible markers", () => {
  const limits: Limits = {
    maxStringLength: 10,
    maxDepth: 2,
    maxKeys: 3,
    maxArrayLength: 2,
    maxRecordBytes: 4096,
  };
  const f = roundTrip({
    s: "abcdefghijklmnop",
    deep: { a: { b: { c: 1 } } },
    arr: [1, 2, 3, 4],
  }, limits).fields;
  assert.equal(f.s, "abcdefghij…[+6 chars]");
  // depth 1 is `deep`, depth 2 is `deep.a`; `deep.a.b` is past maxDepth.
  assert.deepEqual(f.deep, { a: { b: "[Object]" } });
  assert.deepEqual(f.arr, [1, 2, "[+2 items]"]);
  const many = roundTrip({ many: { a: 1, b: 2, c: 3, d: 4, e: 5 } }, limits).fields;
  assert.deepEqual(many.many, { a: 1, b: 2, c: 3, "…": "[+2 keys]" });
  const top = roundTrip({ a: 1, b: 2, c: 3, d: 4 }, limits).fields;
  assert.deepEqual(top, { a: 1, b: 2, c: 3, "…": "[+1 keys]" });
  // Short keys, values and event names take a fast path: the limits hold there too.
  const short = roundTrip({ abcdefghijklmnop: "ok" }, limits, "event_name_long");
  assert.deepEqual(short.fields, { "abcdefghij…[+6 chars]": "ok" });
  assert.equal(short.event, "event_name…[+5 chars]");
});

Deno.test("Encoder.encode() cuts a field past maxRecordBytes and says so", () => {
  const limits: Limits = { ...DEFAULT_LIMITS, maxStringLength: 100000, maxRecordBytes: 1024 };
  const ev = roundTrip({ a: "small", big: "y".repeat(5000), after: 1 }, limits);
  assert.deepEqual(ev.fields, {
    a: "small",
    big: "[Truncated: record size limit]",
    "…": "[More fields cut: record size limit]",
  });
});

Deno.test("Encoder.encode() reads only the kept prefix of a 100 MB string", () => {
  const huge = "z".repeat(100 * 1024 * 1024);
  const small = "z".repeat(16 * 1024);
  const ev = roundTrip({ huge });
  assert.equal((ev.fields.huge as string).length, 8192 + "…[+104849408 chars]".length);
  // Relative to a 16 KiB string in the same run, not a wall-clock budget: reading the
  // whole 100 MiB would cost thousands of times more, a noisy machine a few times more.
  const median = (value: string): number => {
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      roundTrip({ value });
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[3]!;
  };
  const ratio = median(huge) / Math.max(median(small), 0.001);
  assert.ok(ratio < 100, `a 100 MiB string cost ${ratio.toFixed(1)}× a 16 KiB one`);
});

Deno.test("Encoder.encode() round-trips any JSON-like value (property)", () => {
  fc.assert(
    fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })), (fields) => {
      const ev = roundTrip(fields, {
        ...DEFAULT_LIMITS,
        maxKeys: 1000,
        maxArrayLength: 1000,
        maxRecordBytes: 1 << 20,
      });
      // -0 becomes 0 through JSON but the codec keeps it; compare via JSON.
      assert.deepEqual(JSON.parse(JSON.stringify(ev.fields)), JSON.parse(JSON.stringify(fields)));
    }),
    { numRuns: 200 },
  );
});

Deno.test("Encoder.encodeBindings() defines bindings that events refer to by id", () => {
  const enc = new Encoder();
  const dec = new Decoder();
  const def = enc.encodeBindings({ flow_id: "f-1", run_id: "r-1" }, 3);
  assert.equal(def.length % 4, 0, "padded to whole words");
  assert.ok(Decoder.isDefinition(def, 4));
  dec.define(def, 4, new DataView(def.buffer).getUint32(0, true) + 4);
  const len = enc.encode(1, 0, 13, 0, "e", { x: 1 }, 3);
  const ev = dec.decode(enc.buf, 4, len, "p");
  assert.deepEqual(ev.fields, { flow_id: "f-1", run_id: "r-1", x: 1 });
  assert.equal(ev.level, "warn");
  assert.deepEqual(enc.encodeBindings({}, 4), new Uint8Array(0), "nothing to define");
  assert.throws(() => dec.decode(def, 4, def.length, "p"), /bindings definition is not an event/);
});

Deno.test("Decoder.decode() rejects damaged records instead of allocating", () => {
  const enc = new Encoder();
  const len = enc.encode(1, 0, 9, 0, "e", { arr: [1, 2, 3] });
  const bytes = enc.buf.slice(0, len);
  // Find the ARRAY tag and claim a huge count.
  const at = bytes.indexOf(Tag.ARRAY, 20);
  new DataView(bytes.buffer).setUint32(at + 1, 0xfffffff0, true);
  assert.throws(() => new Decoder().decode(bytes, 4, len, "p"), /Count longer than the record/);
  assert.throws(() => new Decoder().decode(bytes, 4, 29, "p"), /Record ends inside a value/);
  assert.throws(() => new Decoder().decode(bytes, 4, 16, "p"), /Record too short/);
});

Deno.test("Decoder keeps repeated keys and every short string right while one-off values pass its cache", () => {
  // One decoder for 10,000 events, as in the worker: each holds the same keys
  // and a fresh value of every length around the decoder's ASCII bound (12,
  // 24) and cache bound (64 bytes), ASCII and not.
  const enc = new Encoder();
  const dec = new Decoder();
  for (let i = 0; i < 10_000; i++) {
    const n = i % 70;
    const id = String(i).padEnd(n, "x").slice(0, n);
    const fields = { flow_id: "f-7c1e2a90", step_id: id, note: "é" + id, bom: "\ufeff" + id };
    const len = enc.encode(i, 0, 9, 0, "step_end", fields);
    const ev = dec.decode(enc.buf, 4, len, "p");
    assert.equal(ev.event, "step_end");
    assert.deepEqual({ ...ev.fields }, fields);
  }
  // An ASCII value damaged into a byte >= 0x80 decodes as UTF-8 does (U+FFFD),
  // never as Latin-1.
  const len = enc.encode(1, 0, 9, 0, "e", { k: "abc" });
  const bytes = enc.buf.slice(0, len);
  const at = bytes.findIndex((b, i) => i > 20 && b === 0x62 && bytes[i - 1] === 0x61); // "ab"
  assert.equal(bytes[at - 3], Tag.ASCII);
  bytes[at] = 0xe9;
  assert.equal(dec.decode(bytes, 4, len, "p").fields.k, "a\ufffdc");
});

Deno.test("Decoder.decode() shares one bindings object and gives each event its own fields", () => {
  const enc = new Encoder();
  const def = enc.encodeBindings({ flow_id: "f", run_id: "r" }, 7);
  const dec = new Decoder();
  dec.define(def, 4, def.length);
  const events = [1, 2].map((i) => {
    const len = enc.encode(i, 0, 9, 0, "e", { i }, 7);
    return dec.decode(enc.buf, 4, len, "p");
  });
  assert.deepEqual(events.map((e) => e.fields), [
    { flow_id: "f", run_id: "r", i: 1 },
    { flow_id: "f", run_id: "r", i: 2 },
  ]);
  assert.notEqual(events[0]!.fields, events[1]!.fields);
  // An event whose bindings were never defined is rejected, not misread.
  const len = enc.encode(3, 0, 9, 0, "e", { i: 3 }, 8);
  assert.throws(() => dec.decode(enc.buf, 4, len, "p"), /unknown bindings 8/);
});

Deno.test("Decoder.define() forgets older epochs' definitions at the first newer one", () => {
  const enc = new Encoder();
  const dec = new Decoder();
  const define = (id: number, epoch: number) => {
    const def = enc.encodeBindings({ id }, id);
    new DataView(def.buffer).setUint32(4, epoch, true);
    dec.define(def, 4, def.length);
  };
  define(1, 1);
  define(2, 1);
  define(3, 2);
  assert.equal(dec.definitions, 1, "epoch 1 forgotten at the first epoch 2 definition");
  define(1, 2);
  const len = enc.encode(1, 0, 9, 0, "e", {}, 1);
  assert.deepEqual(dec.decode(enc.buf, 4, len, "p").fields, { id: 1 });
  const stale = enc.encode(2, 0, 9, 0, "e", {}, 2);
  assert.throws(() => dec.decode(enc.buf, 4, stale, "p"), /unknown bindings 2/);
});

Deno.test("Encoder.encodeAt() writes the same bytes in place as encode() does in scratch", () => {
  const enc = new Encoder();
  const fields = { s: "ünïcode ✓", long: "y".repeat(100), n: 1.5, nested: { a: [1, "b"] } };
  const len = enc.encode(5, 123.5, 13, 0, "ev", fields, 9);
  const expected = enc.buf.slice(0, len);
  const target = new Uint8Array(new SharedArrayBuffer(200_000));
  const view = new DataView(target.buffer);
  const at = 1024;
  const len2 = enc.encodeAt(target, view, at, 5, 123.5, 13, "ev", fields, 9);
  assert.equal(len2, len);
  assert.deepEqual(target.slice(at, at + len2), expected);
  // The scratch path still works afterwards.
  assert.equal(enc.encode(5, 123.5, 13, 0, "ev", fields, 9), len);
  const dec = new Decoder();
  const def = enc.encodeBindings({ flow_id: "f-1" }, 9);
  dec.define(def, 4, def.length);
  const ev = dec.decode(target, at + 4, at + len2, "p");
  assert.equal(ev.fields.s, "ünïcode ✓");
});

Deno.test("Encoder.encode() applies value patterns to the event name and to keys, not only values", () => {
  const token = "Bearer c4n4ry0123456789";
  const enc = new Encoder(DEFAULT_LIMITS, getRedactor({ patterns: ["bearer"] }));
  const err = Object.assign(new Error("x"), { [`h ${token}`]: 1 });
  const len = enc.encode(1, 1, 9, 0, `sent ${token}`, {
    [`k ${token}`]: 1,
    m: new Map([[`m ${token}`, 2]]),
    err,
    nested: { [`n ${token}`]: 3 },
  });
  const event = new Decoder().decode(enc.buf, 4, len, "p.0");
  const text = JSON.stringify(event);
  assert.equal(text.includes("c4n4ry"), false, text);
  assert.equal(event.event, "sent [REDACTED]");
  assert.deepEqual(Object.keys(event.fields).slice(0, 1), ["k [REDACTED]"]);
  // Without patterns, a key is kept as written: only its value can be redacted.
  const plain = new Encoder(DEFAULT_LIMITS, getRedactor());
  const plainLen = plain.encode(1, 1, 9, 0, `sent ${token}`, { [`k ${token}`]: 1 });
  assert.ok(JSON.stringify(new Decoder().decode(plain.buf, 4, plainLen, "p.0")).includes("c4n4ry"));
});

Deno.test("Encoder keeps keys, event names and redaction right while its string cache collides (property)", () => {
  // One encoder for every run, as on the hot path: its cache of short strings
  // sees thousands of distinct keys and event names, many in the same slot,
  // sensitive ones among them.
  const redactor = getRedactor();
  const enc = new Encoder(DEFAULT_LIMITS, redactor);
  const target = new Uint8Array(new SharedArrayBuffer(1 << 17));
  const view = new DataView(target.buffer);
  const dec = new Decoder();
  const short = fc.string({ unit: fc.constantFrom(..."abcxyz_-0é"), minLength: 1, maxLength: 4 });
  const key = fc.oneof(
    short,
    fc.constantFrom(
      "token",
      "password",
      "api_key",
      "tokens",
      "pwd",
      "x".repeat(32),
      "x".repeat(33),
    ),
    fc.string({ maxLength: 40 }),
  );
  fc.assert(
    fc.property(
      fc.dictionary(key, fc.integer(), { maxKeys: 12 }),
      key,
      fc.nat(1000),
      (fields, event, at4) => {
        const at = at4 * 4;
        const len = enc.encodeAt(target, view, at, 1, 2, 9, event, fields, 0);
        const ev = dec.decode(target, at + 4, at + len, "p");
        assert.equal(ev.event, event);
        const expected: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(fields)) {
          expected[k] = redactor.isSensitiveKey(k) ? "[REDACTED]" : v;
        }
        assert.deepEqual({ ...ev.fields }, expected);
      },
    ),
    { numRuns: 3000 },
  );
});

// --- lone surrogates: every JS string round-trips (issue 12, item 5) --------

/** Strings that put a lone surrogate at the start, in the middle and at the end. */
function loneSurrogateStrings(): string[] {
  const out = ["\ud800", "\udc00", "\udbff", "\udfff", "\udc00\ud800", "\ud800\ud800", "é\udc00"];
  // Lengths around the encoder's cache (32), ASCII fast path (48), the
  // decoder's string cache (64 bytes) and the ring's 4-byte alignment.
  for (const n of [1, 2, 3, 4, 5, 30, 31, 32, 33, 46, 47, 48, 49, 61, 62, 63, 64, 65, 100]) {
    const ascii = "a".repeat(n - 1);
    out.push(
      ascii + "\ud800",
      "\udc00" + ascii,
      ascii.slice(1) + "\udfffz",
      ascii + "\u{1F680}\udbff",
    );
  }
  return out;
}

Deno.test("Encoder.encode() round-trips lone surrogates in names, keys, values, errors and bindings", () => {
  const enc = new Encoder();
  const dec = new Decoder();
  const target = new Uint8Array(new SharedArrayBuffer(1 << 17));
  const view = new DataView(target.buffer);
  loneSurrogateStrings().forEach((s, i) => {
    const bindings = { [s]: s, plain: "p" + s };
    const def = enc.encodeBindings(bindings, i + 1);
    dec.define(def, 4, def.length);
    const err = Object.assign(new Error(s), { code: s });
    const fields = { [s]: s, v: s, nested: { [s]: [s, { deep: s }] }, err };
    // Scratch (encode) and in place in shared memory (encodeAt, the ring's
    // path, which may use the scratch buffer: decode the scratch first).
    const len = enc.encode(1, 0, 9, 0, s, fields, i + 1);
    const fromScratch = dec.decode(enc.buf, 4, len, "p");
    const inPlace = enc.encodeAt(target, view, 64, 1, 0, 9, s, fields, i + 1);
    for (const ev of [fromScratch, dec.decode(target, 68, 64 + inPlace, "p")]) {
      assert.equal(ev.event, s);
      assert.equal(ev.fields[s], s, "a call field overrides the binding of the same key");
      assert.equal(ev.fields.plain, "p" + s);
      assert.equal(ev.fields.v, s);
      assert.deepEqual(ev.fields.nested, { [s]: [s, { deep: s }] });
      const e = ev.fields.err as Record<string, unknown>;
      assert.equal(e.message, s);
      assert.equal(e.code, s);
    }
  });
});

Deno.test("Encoder.encode() keeps a lone surrogate in placeholder text", () => {
  const fn = () => {};
  Object.defineProperty(fn, "name", { value: "f\ud800" });
  const f = roundTrip({ fn, sym: Symbol("s\udc00") }).fields;
  assert.equal(f.fn, "[Function: f\ud800]");
  assert.equal(f.sym, "[Symbol(s\udc00)]");
});

Deno.test("Encoder.encode() writes a string with a lone surrogate as WTF8, any other as before", () => {
  const enc = new Encoder();
  const utf8 = new TextEncoder();
  // The value's bytes: the last field of the record.
  const valueOf = (s: string) => {
    const len = enc.encode(1, 0, 9, 0, "e", { s });
    return [...enc.buf.subarray(len - 5 - utf8.encode(s).length, len)];
  };
  const str = (s: string) => {
    const bytes = utf8.encode(s);
    return [Tag.STR, ...new Uint8Array(Uint32Array.of(bytes.length).buffer), ...bytes];
  };
  // Non-ASCII, short (the loop) and long (encodeInto): STR of their UTF-8.
  for (const s of ["é\u{1F680}", "✓".repeat(48), "w".repeat(60) + "é\u{1F680}"]) {
    assert.deepEqual(valueOf(s), str(s), JSON.stringify(s));
  }
  fc.assert(
    fc.property(anyString(60).map((s) => s.toWellFormed()), (s) => {
      const len = enc.encode(1, 0, 9, 0, "e", { s });
      const bytes = utf8.encode(s);
      const tail = [...enc.buf.subarray(len - bytes.length, len)];
      assert.deepEqual(tail, [...bytes], "UTF-8 bytes as TextEncoder writes them");
      assert.notEqual(enc.buf[len - bytes.length - 5], Tag.WTF8);
    }),
    { numRuns: 500 },
  );
  // A lone surrogate, short and long: WTF8.
  for (
    const [s, bytes] of [["a\ud800", [0x61, 0xed, 0xa0, 0x80]], [
      "a".repeat(60) + "\udc00",
      [...utf8.encode("a".repeat(60)), 0xed, 0xb0, 0x80],
    ]] as [string, number[]][]
  ) {
    const len = enc.encode(1, 0, 9, 0, "e", { s });
    assert.deepEqual([...enc.buf.subarray(len - bytes.length - 5, len)], [
      Tag.WTF8,
      ...new Uint8Array(Uint32Array.of(bytes.length).buffer),
      ...bytes,
    ]);
  }
});

Deno.test("Encoder.encode() round-trips any string, lone surrogates included (property)", () => {
  const enc = new Encoder();
  const dec = new Decoder();
  fc.assert(
    fc.property(
      anyString(80),
      anyString(80),
      anyString(80),
      fc.nat(3),
      (event, key, value, pad) => {
        // A prefix moves the string across the 4-byte word boundaries of the record.
        const fields = { ["k".repeat(pad) + key]: value, list: [value, key] };
        const len = enc.encode(1, 0, 9, 0, event, fields);
        const ev = dec.decode(enc.buf, 4, len, "p");
        assert.equal(ev.event, event);
        assert.deepEqual({ ...ev.fields }, fields);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("Encoder.encode() truncates a long string without splitting a surrogate pair", () => {
  const limits = { ...DEFAULT_LIMITS, maxStringLength: 10 };
  const pair = "\u{1F680}";
  // The cut at 10 code units falls between the two halves of the pair.
  const f =
    roundTrip({ s: "123456789" + pair + "tail", t: "12345678" + pair + "tail" }, limits).fields;
  assert.equal(f.s, "123456789…[+6 chars]");
  assert.equal(f.t, "12345678" + pair + "…[+4 chars]");
  assert.ok((f.s as string).isWellFormed());
  // A lone surrogate the caller logged is kept, at the cut too.
  assert.equal(
    roundTrip({ s: "123456789\ud800xyz" }, limits).fields.s,
    "123456789\ud800…[+3 chars]",
  );
});

Deno.test("Decoder.decode() rejects damaged WTF8 bytes instead of replacing them", () => {
  const enc = new Encoder();
  const len = enc.encode(1, 0, 9, 0, "e", { s: "a\ud800" });
  const bytes = enc.buf.slice(0, len);
  bytes[len - 1] = 0x41; // ED A0 41: not a continuation byte
  assert.throws(() => new Decoder().decode(bytes, 4, len, "p"), RecordDecodeError);
});

Deno.test("Decoder.decode() keeps a leading U+FEFF (byte order mark) of any string", () => {
  const short = "\ufeffé";
  const long = "\ufeff" + "b".repeat(100);
  const ev = roundTrip({ [short]: short, long }, DEFAULT_LIMITS, "\ufeffevent");
  assert.equal(ev.event, "\ufeffevent");
  assert.deepEqual({ ...ev.fields }, { [short]: short, long });
});

Deno.test("Decoder marks the fields of records that hold a lone surrogate or a leading U+FEFF, only those", () => {
  const enc = new Encoder();
  const dec = new Decoder();
  const decode = (event: string, fields: Record<string, unknown>, id = 0) => {
    const len = enc.encode(1, 0, 9, 0, event, fields, id);
    return dec.decode(enc.buf, 4, len, "p");
  };
  for (const odd of ["a\ud800", "\udc00", "\ufeffbom", "\ufeff" + "é".repeat(40)]) {
    assert.ok(hasWtf8Strings(decode(odd, {}).fields), `event name ${JSON.stringify(odd)}`);
    assert.ok(hasWtf8Strings(decode("e", { [odd]: 1 }).fields), `key ${JSON.stringify(odd)}`);
    const nested = decode("e", { v: [{ deep: odd }] }).fields;
    assert.ok(hasWtf8Strings(nested), `value ${JSON.stringify(odd)}`);
  }
  for (const plain of ["plain", "é", "x".repeat(100), "\u{1F680}", "a\ufeff", ""]) {
    assert.ok(!hasWtf8Strings(decode(plain, { [plain]: plain }).fields), JSON.stringify(plain));
  }
  const def = enc.encodeBindings({ b: "\udfff" }, 3);
  dec.define(def, 4, def.length);
  const clean = enc.encodeBindings({ b: "ok" }, 4);
  dec.define(clean, 4, clean.length);
  const [bindings, call] = (decode("e", { c: 1 }, 3) as BoundEvent)[BOUND_FIELDS]!;
  assert.ok(hasWtf8Strings(bindings), "the bindings object");
  assert.ok(!hasWtf8Strings(call), "the event's own strings are plain");
  assert.ok(!hasWtf8Strings((decode("e", { c: 1 }, 4) as BoundEvent)[BOUND_FIELDS]![0]));
  const oddCall = (decode("e", { c: "\udfff" }, 4) as BoundEvent)[BOUND_FIELDS]!;
  assert.ok(hasWtf8Strings(oddCall[1]) && !hasWtf8Strings(oddCall[0]));
  // The mark is invisible to copies, JSON, and deep equality.
  const fields = decode("e", { s: "a\ud800" }).fields;
  assert.deepEqual(Object.keys(fields), ["s"]);
  assert.deepEqual(fields, { s: "a\ud800" });
  assert.ok(!hasWtf8Strings({ ...fields }));
});

// --- the encoder's value cache: repeated string values are copied, not re-encoded ---

Deno.test("Encoder writes a value anew when it changes under the same key, cached or not", () => {
  const enc = new Encoder();
  const dec = new Decoder();
  // Hits, a change, a change back, a per-call value that turns the cache off
  // for the key, and a repeated value again after it.
  const seq = ["ok", "ok", "ok", "error", "ok", "ok", "ab", "ba", "ab"];
  for (let i = 0; i < 300; i++) seq.push("step-" + i);
  seq.push("ok", "ok", "ok", "okay", "ok", "");
  for (const status of seq) {
    const len = enc.encode(1, 2, 9, 0, "ev", { status, n: 1 });
    assert.deepEqual({ ...dec.decode(enc.buf, 4, len, "p").fields }, { status, n: 1 });
  }
});

Deno.test("Encoder re-encodes an object value mutated between calls", () => {
  const enc = new Encoder();
  const dec = new Decoder();
  const job = { id: "j-1", tags: ["a"] };
  for (const id of ["j-1", "j-1", "j-2", "j-2"]) {
    job.id = id;
    job.tags.push(id);
    const len = enc.encode(1, 2, 9, 0, "ev", { job, id });
    assert.deepEqual(dec.decode(enc.buf, 4, len, "p").fields, {
      job: { id, tags: [...job.tags] },
      id,
    });
  }
});

Deno.test("Encoder keeps string values right while its value cache hits, misses and collides (property)", () => {
  // One encoder for every call, as on the hot path: a few keys (many sharing
  // cache slots), values drawn from a small set so they repeat, fresh ones
  // among them, sensitive keys, and records at moving offsets of a ring.
  const redactor = getRedactor();
  const enc = new Encoder(DEFAULT_LIMITS, redactor);
  const target = new Uint8Array(new SharedArrayBuffer(1 << 16));
  const view = new DataView(target.buffer);
  const dec = new Decoder();
  const key = fc.constantFrom("a", "b", "status", "run_id", "token", "k" + "x".repeat(31), "é");
  const value = fc.oneof(
    fc.constantFrom("ok", "no", "error", "", "r-1", "r-2", "x".repeat(48), "x".repeat(49), "é"),
    fc.string({ maxLength: 50 }),
    fc.integer(),
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.dictionary(key, value, { maxKeys: 7 }), fc.nat(4000)), {
        maxLength: 40,
      }),
      (calls) => {
        for (const [fields, at4] of calls) {
          const at = at4 * 4;
          // A fresh string object for a repeated value half the time: equal
          // content must hit the cache too.
          const copy = Object.fromEntries(
            Object.entries(fields).map((
              [k, v],
            ) => [k, typeof v === "string" ? [...v].join("") : v]),
          );
          const len = enc.encodeAt(target, view, at, 1, 2, 9, "ev", at4 & 1 ? copy : fields, 0);
          const expected: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(fields)) {
            expected[k] = redactor.isSensitiveKey(k) ? "[REDACTED]" : v;
          }
          assert.deepEqual({ ...dec.decode(target, at + 4, at + len, "p").fields }, expected);
        }
      },
    ),
    { numRuns: 500 },
  );
});

// --- shapes: keys by reference (docs/internals.md "Shapes by reference") ---

/**
 * An encoder with shapes on and a decoder, defining what the encoder learns
 * as a producer would (the definition follows the event written in full),
 * all in epoch 1. `write()` returns the decoded event and whether the record
 * referred to a shape.
 */
function shapedPair(redactor: ReturnType<typeof getRedactor> | null = null) {
  const enc = new Encoder(DEFAULT_LIMITS, redactor);
  enc.shapes = true;
  enc.epoch = 1;
  const dec = new Decoder();
  let ids = 100;
  let definitions = 0;
  const write = (event: string, fields: unknown, bindId = 0) => {
    const len = enc.encode(1, 2, 9, 0, event, fields as Record<string, unknown>, bindId);
    const shaped = (enc.buf[17]! & FLAG_SHAPE) !== 0;
    const ev = dec.decode(enc.buf, 4, len, "p");
    const sh = enc.pending;
    if (sh !== null) {
      enc.pending = null;
      const id = sh.definition?.id ?? ++ids;
      const def = enc.encodeShape(sh, id);
      new DataView(def.buffer).setUint32(4, 1, true);
      dec.define(def, 4, new DataView(def.buffer).getUint32(0, true) + 4);
      sh.definition = { id, epoch: 1 };
      definitions++;
    }
    return { ev, shaped, len };
  };
  return { enc, dec, write, definitions: () => definitions };
}

Deno.test("Encoder writes an event of a known shape as its id and values; Decoder restores its name and keys", () => {
  const { write } = shapedPair();
  const fields = (i: number) => ({ flow_id: "f-1", step_id: "step-" + i, ms: i + 0.5, ok: true });
  const first = write("step_end", fields(0));
  assert.equal(first.shaped, false, "the first call is written in full");
  const second = write("step_end", fields(1));
  assert.equal(second.shaped, true);
  assert.equal(second.ev.event, "step_end");
  assert.deepEqual({ ...second.ev.fields }, fields(1));
  // The event name and the keys are not in the record: 24 + 4 + values, and
  // flow_id, equal to the shape's constant, takes one byte.
  assert.equal(second.len, 24 + 4 + 1 + 8 + 9 + 1);
  assert.ok(second.len < first.len - 30);
});

Deno.test("Encoder writes a value equal to its shape's constant as one byte, any other in full", () => {
  const { write } = shapedPair();
  const fields = (flow: string, i: number) => ({ flow_id: flow, step_id: "s-" + i, ok: "yes" });
  // Its definition gets this call's short ASCII strings as the keys' constants.
  write("step_end", fields("f-1", 0));
  // The last flow id is equal to the constant but another string object.
  const built = ["f", "1"].join("-");
  for (const [flow, i] of [["f-1", 1], ["f-2", 2], ["f-1", 3], [built, 4]] as const) {
    const got = write("step_end", fields(flow, i));
    assert.equal(got.shaped, true);
    assert.deepEqual({ ...got.ev.fields }, fields(flow, i));
    // step_id never repeats; flow_id "f-1" and ok "yes" are constants.
    const values = flow === "f-1" ? 1 : 2 + flow.length;
    assert.equal(got.len, 24 + 4 + values + (2 + ("s-" + i).length) + 1);
  }
});

Deno.test("Encoder's shape definition holds constants only for plain, short, ASCII, non-sensitive values", () => {
  const enc = new Encoder(DEFAULT_LIMITS, getRedactor());
  enc.shapes = true;
  enc.epoch = 1;
  let reads = 0;
  const fields = {
    status: "ok",
    password: "s3cret-value",
    text: "é not ascii",
    long: "x".repeat(49),
    n: 5,
    get lazy(): string {
      reads++;
      return "from-a-getter";
    },
  };
  enc.encode(1, 2, 9, 0, "ev", fields, 0);
  assert.equal(reads, 1, "the getter ran once, for the event only");
  const shape = enc.pending!;
  assert.deepEqual(shape.constants, ["ok", undefined, undefined, undefined, undefined, undefined]);
  const def = enc.encodeShape(shape, 9);
  assert.equal(def[17]! & FLAG_CONSTANTS, FLAG_CONSTANTS);
  const text = new TextDecoder().decode(def);
  assert.ok(!text.includes("s3cret"), "a sensitive value never reaches the definition");
  // A shape without any constant is defined with its keys alone, as before.
  const plain = new Encoder();
  plain.shapes = true;
  plain.encode(1, 2, 9, 0, "ev", { n: 1, big: 2n }, 0);
  assert.equal(plain.encodeShape(plain.pending!, 3)[17]! & FLAG_CONSTANTS, 0);
});

Deno.test("Encoder defines a shape without constants when they would not fit, and uses none", () => {
  // A Proxy whose descriptors (where constants are read) claim longer values
  // than its reads (what the event is written with): the only way the
  // definition can outgrow the call the shape was learned from.
  const limits: Limits = { ...DEFAULT_LIMITS, maxRecordBytes: 256 };
  const enc = new Encoder(limits);
  enc.shapes = true;
  enc.epoch = 1;
  const target: Record<string, string> = {};
  for (let i = 0; i < 8; i++) target["k" + i] = "x";
  const lying = new Proxy(target, {
    getOwnPropertyDescriptor: (t, k) => ({
      ...Reflect.getOwnPropertyDescriptor(t, k),
      value: "y".repeat(40),
    }),
  });
  enc.encode(1, 2, 9, 0, "ev", lying, 0);
  const shape = enc.pending!;
  assert.equal(shape.constants.filter((c) => c !== undefined).length, 8);
  const def = enc.encodeShape(shape, 3);
  assert.equal(def[17]! & FLAG_CONSTANTS, 0);
  assert.deepEqual(shape.constants, new Array(8).fill(undefined));
  const dec = new Decoder();
  new DataView(def.buffer).setUint32(4, 1, true);
  dec.define(def, 4, new DataView(def.buffer).getUint32(0, true) + 4);
  shape.definition = { id: 3, epoch: 1 };
  enc.pending = null;
  const len = enc.encode(2, 2, 9, 0, "ev", { ...target }, 0);
  assert.equal(enc.buf[17]! & FLAG_SHAPE, FLAG_SHAPE);
  assert.deepEqual({ ...dec.decode(enc.buf, 4, len, "p").fields }, target);
});

Deno.test("Decoder refuses a constant its shape does not have, and marks one of a lost shape", () => {
  const { enc, write } = shapedPair();
  write("ev", { a: "x", b: 1 });
  const got = write("ev", { a: "x", b: 2 });
  assert.equal(got.shaped, true);
  const bytes = enc.buf.slice(0, got.len);
  assert.equal(bytes[28], Tag.CONSTANT);
  // The same record against a definition of the same keys without constants.
  const dec = new Decoder();
  const keysOnly = new Encoder();
  keysOnly.shapes = true;
  keysOnly.encode(1, 2, 9, 0, "ev", { a: 1, b: 1 }, 0);
  const id = new DataView(bytes.buffer).getUint32(24, true);
  const def = keysOnly.encodeShape(keysOnly.pending!, id);
  dec.define(def, 4, new DataView(def.buffer).getUint32(0, true) + 4);
  assert.throws(() => dec.decode(bytes, 4, got.len, "p"), RecordDecodeError);
  const lost = new Decoder();
  lost.recovering = true;
  assert.deepEqual({ ...lost.decode(bytes, 4, got.len, "p").fields }, {
    0: "[constant lost with its shape]",
    1: 2,
    shape_lost: true,
  });
});

Deno.test("Encoder keeps every value kind exact in an event of a shape", () => {
  const { write } = shapedPair(getRedactor());
  const job = { id: "j-1", tags: ["a"] };
  const kinds: unknown[][] = [
    ["ok", -0, 1n << 70n, job, "\ud800 lone", new Date(5), null, undefined, [1, "x"], "s3cret"],
    ["error", 0, -5n, job, "\udfff", new Date(NaN), false, "u", { "__proto__": 1 }, "other"],
  ];
  for (let i = 0; i < 6; i++) {
    const v = kinds[i % 2]!;
    job.id = "j-" + i; // mutated between calls: re-encoded every time
    const fields: Record<string, unknown> = {};
    ["status", "zero", "big", "job", "text", "when", "none", "maybe", "more", "password"]
      .forEach((k, n) => Object.defineProperty(fields, k, { value: v[n], enumerable: true }));
    Object.defineProperty(fields, "__proto__", { value: i, enumerable: true });
    const { ev, shaped } = write("ev", fields);
    assert.equal(shaped, i > 0);
    const got = ev.fields;
    assert.ok(Object.is(got.zero, v[1]));
    assert.equal(got.big, v[2]);
    assert.deepEqual(got.job, { id: "j-" + i, tags: ["a"] });
    assert.equal(got.text, v[4]);
    assert.equal(got.password, "[REDACTED]");
    assert.ok(Object.hasOwn(got, "__proto__"));
    assert.equal(Object.getOwnPropertyDescriptor(got, "__proto__")!.value, i);
    assert.deepEqual(got.more, v[8]);
    assert.equal(hasWtf8Strings(got), true);
  }
});

Deno.test("Encoder writes in full a call whose keys differ from its event's shape, order included", () => {
  const { write, definitions } = shapedPair();
  write("ev", { a: 1, b: 2 });
  assert.equal(write("ev", { a: 3, b: 4 }).shaped, true);
  // Same keys, other order: not the shape.
  const swapped = write("ev", { b: 5, a: 6 });
  assert.equal(swapped.shaped, false);
  assert.deepEqual(Object.entries(swapped.ev.fields), [["b", 5], ["a", 6]]);
  // One call in between does not replace the shape; two in a row do.
  assert.equal(write("ev", { a: 7, b: 8 }).shaped, true);
  for (const extra of [{ a: 1, b: 2, c: 3 }, { a: 1 }, {}]) {
    assert.equal(write("ev", extra).shaped, false);
    assert.deepEqual({ ...write("ev", { a: 9, b: 9 }).ev.fields }, { a: 9, b: 9 });
  }
  assert.equal(definitions(), 1);
  write("ev", { b: 1, a: 1 });
  write("ev", { b: 2, a: 2 });
  const now = write("ev", { b: 3, a: 3 });
  assert.equal(now.shaped, true);
  assert.deepEqual(Object.entries(now.ev.fields), [["b", 3], ["a", 3]]);
  assert.equal(definitions(), 2);
});

Deno.test("Encoder writes in full an event of a shape not defined in the current epoch", () => {
  const { enc, write } = shapedPair();
  write("ev", { a: 1 });
  assert.equal(write("ev", { a: 2 }).shaped, true);
  enc.epoch = 2;
  const len = enc.encode(1, 2, 9, 0, "ev", { a: 3 }, 0);
  assert.equal(enc.buf[17]! & FLAG_SHAPE, 0);
  assert.notEqual(enc.pending, null, "the producer is asked to define it again");
  assert.deepEqual({ ...new Decoder().decode(enc.buf, 4, len, "p").fields }, { a: 3 });
});

Deno.test("Encoder keeps events right with more event names than its shape table holds (property)", () => {
  const redactor = getRedactor();
  const { write } = shapedPair(redactor);
  const key = fc.constantFrom("a", "b", "status", "token", "step_id", "é", "k".repeat(40));
  const value = fc.oneof(fc.constantFrom("ok", "no", "r-1", "r-2"), fc.string(), fc.integer());
  // 600 event names: many share a slot of the 256.
  const event = fc.nat(599).map((n) => "e" + n);
  let shaped = 0;
  fc.assert(
    fc.property(
      fc.array(fc.tuple(event, fc.dictionary(key, value, { maxKeys: 5 })), { maxLength: 30 }),
      (calls) => {
        for (const [name, fields] of calls) {
          // Each call three times, so a shape gets learned and used.
          for (let r = 0; r < 3; r++) {
            const got = write(name, fields);
            if (got.shaped) shaped++;
            assert.equal(got.ev.event, name);
            const expected: Record<string, unknown> = {};
            for (const [k, v] of Object.entries(fields)) {
              expected[k] = redactor.isSensitiveKey(k) ? "[REDACTED]" : v;
            }
            assert.deepEqual(Object.entries(got.ev.fields), Object.entries(expected));
          }
        }
      },
    ),
    { numRuns: 300 },
  );
  // About 1,000–1,090 in 25 runs; about 510–600 when null-prototype
  // dictionaries (half of fast-check's) were refused a shape.
  assert.ok(shaped > 800, `shapes were used (${shaped} events)`);
});

Deno.test("Encoder writes in full a call whose getter throws, or fields that are not a plain object", () => {
  const { write } = shapedPair();
  write("ev", { a: 1, b: 2 });
  let calls = 0;
  const hostile = {
    a: 1,
    get b(): number {
      if (++calls === 1) throw new Error("no");
      return 2;
    },
  };
  const got = write("ev", hostile);
  assert.equal(got.shaped, false);
  assert.deepEqual({ ...got.ev.fields }, { a: 1, b: 2 });
  const err = Object.assign(new Error("x"), { a: 1, b: 2 });
  assert.equal(write("ev", err).shaped, false);
  assert.equal(write("ev", Object.assign(["x", "y"], { a: 1 })).shaped, false);
});

Deno.test("Encoder shapes a null-prototype object as a plain one, and learns no shape it would refuse", () => {
  const { write, definitions } = shapedPair();
  const bare = (i: number) => Object.assign(Object.create(null), { a: "r-1", b: i });
  write("ev", bare(0));
  const got = write("ev", bare(1));
  assert.equal(got.shaped, true, "a null prototype is a plain object (docs/api.md)");
  assert.deepEqual({ ...got.ev.fields }, { a: "r-1", b: 1 });
  assert.equal(definitions(), 1);
  // A class instance, or an array without a prototype, is written in full
  // every call; no definition is written for a shape that would never be used.
  class Step {
    constructor(readonly a: string, readonly b: number) {}
  }
  const arr = Object.setPrototypeOf(["x", "y"], null);
  for (let i = 0; i < 20; i++) {
    const step = write("step", new Step("r-1", i));
    assert.equal(step.shaped, false);
    assert.deepEqual({ ...step.ev.fields }, { a: "r-1", b: i });
    const list = write("list", arr);
    assert.equal(list.shaped, false);
    assert.deepEqual({ ...list.ev.fields }, { value: ["x", "y"] });
  }
  assert.equal(definitions(), 1, "no definition churn");
});

Deno.test("Decoder rejects an event of an unknown shape, or keeps its values after a worker restart", () => {
  const { enc, write } = shapedPair();
  write("ev", { a: 1, b: "x" });
  const len = write("ev", { a: 2, b: "y" }).len;
  const bytes = enc.buf.slice(0, len);
  assert.throws(() => new Decoder().decode(bytes, 4, len, "p"), RecordDecodeError);
  const dec = new Decoder();
  dec.recovering = true;
  const ev = dec.decode(bytes, 4, len, "p");
  assert.equal(ev.event, "[unknown event]");
  assert.deepEqual({ ...ev.fields }, { 0: 2, 1: "y", shape_lost: true });
  // A shape id given as bindings, or bindings as a shape, is damage.
  const bindings = new Encoder().encodeBindings({ a: 1 }, 7);
  dec.define(bindings, 4, new DataView(bindings.buffer).getUint32(0, true) + 4);
  new DataView(bytes.buffer).setUint32(24, 7, true);
  assert.throws(() => dec.decode(bytes, 4, len, "p"), RecordDecodeError);
});

Deno.test("Encoder stops learning shapes in a slot whose call sites keep replacing each other", () => {
  const { write, definitions } = shapedPair();
  const a = (i: number) => ({ a: i, b: "x" });
  const b = (i: number) => ({ b: "y", a: i });
  // Two calls of one key order, then two of the other: each pair replaces the shape.
  for (let i = 0; i < 1000; i++) {
    const f = (i >> 1) % 2 === 0 ? a(i) : b(i);
    assert.deepEqual(Object.entries(write("ev", f).ev.fields), Object.entries(f));
  }
  assert.equal(definitions(), 64);
});

Deno.test("Encoder writes a cached string value bit for bit (every ASCII string up to 48 characters)", () => {
  // Cached values are copied 8 bytes at a time as float64s (short_strings.ts
  // putDoubles): a byte pattern that lost a bit on the way would show here.
  const ascii = fc.string({
    unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
    maxLength: 48,
  });
  const shaped = shapedPair();
  const keyed = new Encoder();
  const dec = new Decoder();
  fc.assert(
    fc.property(ascii, ascii, (a, b) => {
      for (let i = 0; i < 3; i++) {
        // The second and third calls find both values in the cache.
        const viaShape = shaped.write("cached", { a, b, n: 1.5 });
        if (i > 0) assert.equal(viaShape.shaped, true);
        assert.deepEqual({ ...viaShape.ev.fields }, { a, b, n: 1.5 });
        const len = keyed.encode(1, 2, 9, 0, "cached", { a, b, n: 1.5 });
        assert.deepEqual({ ...dec.decode(keyed.buf, 4, len, "p").fields }, { a, b, n: 1.5 });
      }
    }),
    { numRuns: 1000 },
  );
});
