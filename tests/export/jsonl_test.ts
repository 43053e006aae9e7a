import assert from "node:assert/strict";
import fc from "fast-check";
import type { LogEvent } from "../../src/event.ts";
import { eventToJson, payloadToJsonLines } from "../../src/export/jsonl.ts";
import { packEvents, unpackEvents } from "../../src/store/payload_codec.ts";
import { makeBoundEvent, makeEvent } from "../support/log_event.ts";

function bound(seq: number, bindings: Record<string, unknown>, call: Record<string, unknown>) {
  return makeBoundEvent(1_700_000_000_000.25 + seq, seq, bindings, call);
}

Deno.test("payloadToJsonLines() writes what eventToJson() writes for each unpacked event", () => {
  const shared = { flow_id: "f", run_id: "r", node: 'say "hi"\n' };
  const events: LogEvent[] = [
    bound(1, shared, { n: 1 }),
    bound(2, shared, {}),
    bound(3, shared, { flow_id: "override", extra: [1, { a: null }] }),
    bound(4, shared, { gone: undefined }),
    bound(5, {}, { only: "call" }),
    bound(6, { empty: undefined }, { x: 1 }),
    bound(7, shared, { big: 2n ** 70n, neg: -0, nan: NaN, inf: -Infinity, when: new Date(0) }),
    makeEvent(8, JSON.parse('{"__proto__":{"a":1}}'), {
      level: "error",
      event: "é \u2028 ☃",
      producer: "p\\q",
      seq: 8,
    }),
  ];
  const payload = packEvents(events).slice();
  const expected = unpackEvents(payload).map((e) => eventToJson(e) + "\n").join("");
  assert.equal(payloadToJsonLines(payload), expected);
  const lines = expected.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(lines[2].fields, {
    flow_id: "override",
    run_id: "r",
    node: 'say "hi"\n',
    extra: [1, { a: null }],
  });
  assert.equal(lines[6].fields.big, "1180591620717411303424");
  assert.equal(lines[6].fields.nan, null);
  assert.equal(lines[6].fields.when, "1970-01-01T00:00:00.000Z");
  assert.deepEqual(Object.keys(lines[7].fields), ["__proto__"]);
});

Deno.test("payloadToJsonLines() agrees with eventToJson() on arbitrary fields", () => {
  const value = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
  const fields = fc.dictionary(fc.string({ maxLength: 6 }), value, { maxKeys: 5 });
  fc.assert(
    fc.property(fields, fc.array(fields, { minLength: 1, maxLength: 5 }), (bindings, calls) => {
      const events = calls.map((call, i) => bound(i + 1, bindings, call));
      const payload = packEvents(events).slice();
      const expected = unpackEvents(payload).map((e) => eventToJson(e) + "\n").join("");
      assert.equal(payloadToJsonLines(payload), expected);
    }),
    { numRuns: 200 },
  );
});

Deno.test("payloadToJsonLines() rejects bytes that are not a record payload", () => {
  assert.throws(() => payloadToJsonLines(Uint8Array.of(0x93, 1, 2, 3)), TypeError);
});
