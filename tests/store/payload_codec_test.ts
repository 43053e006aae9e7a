import assert from "node:assert/strict";
import { Unpackr } from "msgpackr/unpack";
import { BoundLogEvent, type LogEvent } from "../../src/event.ts";
import fc from "fast-check";
import { packEvents, unpackEvents } from "../../src/store/payload_codec.ts";
import { payloadToJsonLines } from "../../src/export/jsonl.ts";
import { payloadToJsonBytes } from "../../src/export/jsonl_transcoder.ts";
import { marked, valueKinds } from "./_helpers.ts";
import { makeEvent } from "../support/log_event.ts";
import { anyString } from "../support/any_string.ts";

Deno.test("packEvents() round-trips every value kind", () => {
  const fields = valueKinds();
  const [back] = unpackEvents(packEvents([makeEvent(1, marked(fields))]));
  assert.ok(back !== undefined);
  assert.deepEqual(back.fields, fields);
  assert.ok(Object.is(back.fields.negative_zero, -0));
  const nested = back.fields.nested as { a: [number, string, { three: unknown[] }] };
  assert.ok(Object.is(nested.a[2].three[2], -0));
  assert.ok(Object.hasOwn(back.fields, "missing"));
  assert.equal(typeof back.fields.small_bigint, "bigint");
  assert.ok(back.fields.date instanceof Date);
});

Deno.test("packEvents() does not change the events it escapes", () => {
  const fields = { n: -0, nested: [-0] };
  const event = makeEvent(1, fields);
  packEvents([event]);
  assert.equal(event.fields, fields);
  assert.ok(Object.is(fields.n, -0));
  assert.ok(Object.is(fields.nested[0], -0));
});

Deno.test("unpackEvents() keeps __proto__ and constructor keys without polluting a prototype", () => {
  const hostile = JSON.parse(
    '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}},' +
      ' "list": [{"__proto__": {"polluted": true}}]}',
  );
  // Enough events for msgpackr to switch to its compiled object readers.
  const events: LogEvent[] = [];
  for (let i = 0; i < 20; i++) events.push(makeEvent(i, { hostile, i }));
  const back = unpackEvents(packEvents(events));
  for (const event of back) {
    const value = event.fields.hostile as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ["__proto__", "constructor", "list"]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(value, "__proto__")?.value, {
      polluted: true,
    });
    assert.deepEqual(value.constructor, { prototype: { polluted: true } });
    const inner = (value.list as Record<string, unknown>[])[0]!;
    assert.equal(Object.getPrototypeOf(inner), Object.prototype);
    assert.ok(Object.hasOwn(inner, "__proto__"));
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted"), false);
});

Deno.test("unpackEvents() keeps a top-level __proto__ key whatever its value", () => {
  for (const value of ["text", 1, null, [1]]) {
    const fields = JSON.parse(`{"__proto__": ${JSON.stringify(value)}, "a": 1}`);
    const [back] = unpackEvents(packEvents([makeEvent(1, fields)]));
    assert.deepEqual(Object.keys(back!.fields), ["__proto__", "a"]);
    assert.deepEqual(Object.getOwnPropertyDescriptor(back!.fields, "__proto__")?.value, value);
    assert.equal(Object.getPrototypeOf(back!.fields), Object.prototype);
  }
});

Deno.test("packEvents() makes each payload decodable on its own", () => {
  const shapes: LogEvent[][] = [];
  for (let r = 0; r < 4; r++) {
    const events: LogEvent[] = [];
    for (let i = 0; i < 10; i++) events.push(makeEvent(i, { [`key_${r}`]: i, shared: r }));
    shapes.push(events);
  }
  const payloads = shapes.map((events) => packEvents(events).slice());
  // Decode in reverse order, each with a brand-new decoder: nothing may depend on an earlier record.
  for (let r = payloads.length - 1; r >= 0; r--) {
    const raw = new Unpackr({ useRecords: true }).unpack(payloads[r]!) as [unknown[], unknown[][]];
    assert.deepEqual(raw[1].map((row) => row[6]), shapes[r]!.map((e) => e.fields));
    assert.deepEqual(unpackEvents(payloads[r]!), shapes[r]);
  }
});

Deno.test("packEvents() round-trips more distinct object shapes than msgpackr has record ids", () => {
  const events: LogEvent[] = [];
  for (let i = 0; i < 300; i++) {
    events.push(makeEvent(i, { [`field_${i}`]: { [`inner_${i}`]: i } }));
  }
  assert.deepEqual(unpackEvents(packEvents(events)), events);
});

Deno.test("unpackEvents() throws on a payload that is not an array", () => {
  assert.throws(() => unpackEvents(Uint8Array.of(0x01)), TypeError);
});

Deno.test("packEvents() writes each child logger's bindings once per record", async () => {
  const { BOUND_FIELDS } = await import("../../src/event.ts");
  const template = { flow_id: "f", run_id: "r", trace_id: "0af7651916cd43dd8448eb211c80319c" };
  const events = Array.from({ length: 50 }, (_, i) => {
    const e = makeEvent(i, { ...template, i });
    Object.assign(e, { [BOUND_FIELDS]: [template, { i }] });
    return e;
  });
  const bound = packEvents(events).slice();
  const plain = packEvents(events.map((e) => makeEvent(e.seq, e.fields))).slice();
  assert.ok(bound.length < plain.length * 0.6, `${bound.length} vs ${plain.length} bytes`);
  const raw = new Unpackr({ useRecords: true }).unpack(bound) as [unknown[], unknown[][]];
  assert.equal(raw[0].length, 1, "one bindings object for 50 events");
  const back = unpackEvents(bound);
  assert.deepEqual(back.map((e) => e.fields), events.map((e) => e.fields));
});

Deno.test("unpackEvents() lets a call field override a binding of the same name", async () => {
  const { BOUND_FIELDS } = await import("../../src/event.ts");
  const e = makeEvent(1, { step_id: "call" });
  Object.assign(e, { [BOUND_FIELDS]: [{ step_id: "bound", flow_id: "f" }, { step_id: "call" }] });
  assert.deepEqual(unpackEvents(packEvents([e]))[0]!.fields, { step_id: "call", flow_id: "f" });
});

Deno.test("packEvents() round-trips lone surrogates in names, producers, keys, values and bindings of marked events", () => {
  const s = "lone\uD800x";
  const bindings = marked({ flow_id: "f", ["b\uDC00"]: "end\uDBFF", plain: "ok" });
  const fields = { [s]: s, nested: { ["\uDFFF"]: [s, { deep: "\uDC00\uD800" }] } };
  const events: LogEvent[] = [
    makeEvent(1, marked(fields), { event: s, producer: "p\uD800" }),
    new BoundLogEvent(2, "info", 9, "e\uDC00", "p.1", 2, bindings, marked({ v: s })),
    new BoundLogEvent(3, "info", 9, "ok", "p.1", 3, bindings, {}),
  ];
  const back = unpackEvents(packEvents(events));
  assert.deepEqual(back[0], events[0]);
  assert.deepEqual(back.slice(1).map((e) => [e.event, e.fields]), [
    ["e\uDC00", { ...bindings, v: s }],
    ["ok", bindings],
  ]);
  // JSON Lines of the payload (the CLI's export) escape them as \uXXXX and parse back.
  const payload = packEvents(events).slice();
  assert.equal(payloadToJsonBytes(payload), null, "left to the general path");
  const lines = payloadToJsonLines(payload).trimEnd().split("\n");
  assert.ok(lines.every((line) => line.isWellFormed() && /^[\x20-\x7e]*$/.test(line)));
  assert.deepEqual(lines.map((line) => JSON.parse(line).fields), back.map((e) => e.fields));
});

Deno.test("packEvents() writes a lone-surrogate string as extension 0x57 of its WTF-8 bytes", () => {
  const payload = packEvents([makeEvent(1, marked({ s: "a\uD800" }))]).slice();
  // fixext 4 (0xD6), type 0x57, then "a" and ED A0 80.
  const ext = [0xd6, 0x57, 0x61, 0xed, 0xa0, 0x80];
  assert.ok(
    payload.some((_, i) => ext.every((b, j) => payload[i + j] === b)),
    `no ${ext} in ${payload}`,
  );
  // A well-formed string keeps the plain MessagePack str (fixstr of 5 UTF-8 bytes).
  const plain = packEvents([makeEvent(1, { s: "a\u{1F680}" })]).slice();
  const str = [0xa5, 0x61, 0xf0, 0x9f, 0x9a, 0x80];
  assert.ok(plain.some((_, i) => str.every((b, j) => plain[i + j] === b)), `no ${str} in ${plain}`);
  assert.ok(!plain.includes(0xd6), "no fixext 4");
});

Deno.test("unpackEvents() rejects a damaged 0x57 string instead of replacing it", () => {
  const payload = packEvents([makeEvent(1, marked({ s: "a\uD800" }))]).slice();
  const at = payload.indexOf(0xa0, payload.indexOf(0x57));
  payload[at + 1] = 0x41; // ED A0 41: not WTF-8
  assert.throws(() => unpackEvents(payload), TypeError);
});

Deno.test("packEvents() round-trips any string (fast-check)", () => {
  const text = anyString(40);
  fc.assert(
    fc.property(text, text, text, (name, key, value) => {
      const event = makeEvent(1, marked({ [key]: value, list: [value] }), { event: name });
      assert.deepEqual(unpackEvents(packEvents([event])), [event]);
    }),
    { numRuns: 300 },
  );
});

Deno.test("packEvents() keeps a leading U+FEFF of a string past msgpackr's 64-byte decoder threshold", () => {
  const long = "\ufeff" + "c".repeat(100);
  const event = makeEvent(1, marked({ [long]: long, short: "\ufeffs" }), { event: long });
  assert.deepEqual(unpackEvents(packEvents([event])), [event]);
});

Deno.test("packEvents() checks strings only in marked events and bindings", () => {
  // Unmarked, msgpackr writes the string as it always did (the decoder marks
  // every event that needs more: tests/wire/codec_test.ts).
  const [plain] = unpackEvents(packEvents([makeEvent(1, { s: "x".repeat(70) + "\uD800" })]));
  assert.equal(plain!.fields.s, "x".repeat(70) + "\uFFFD");
  const [kept] = unpackEvents(
    packEvents([makeEvent(1, marked({ s: "x".repeat(70) + "\uD800" }))]),
  );
  assert.equal(kept!.fields.s, "x".repeat(70) + "\uD800");
});
