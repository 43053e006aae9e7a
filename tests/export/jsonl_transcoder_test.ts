import assert from "node:assert/strict";
import fc from "fast-check";
import type { LogEvent } from "../../src/event.ts";
import { payloadToJsonLines } from "../../src/export/jsonl.ts";
import { payloadToJsonBytes } from "../../src/export/jsonl_transcoder.ts";
import { packEvents } from "../../src/store/payload_codec.ts";
import { makeBoundEvent } from "../support/log_event.ts";

const text = new TextDecoder();

function bound(seq: number, bindings: Record<string, unknown>, call: Record<string, unknown>) {
  return makeBoundEvent(1_767_225_600_000 + seq / 3, seq, bindings, call);
}

/** The transcoder's bytes, or the general path's text when it declines: what an export writes. */
function exported(payload: Uint8Array): string {
  const bytes = payloadToJsonBytes(payload);
  return bytes === null ? payloadToJsonLines(payload) : text.decode(bytes);
}

Deno.test("payloadToJsonBytes() transcodes the logger's records exactly as payloadToJsonLines() writes them", () => {
  const plain = fc.oneof(
    fc.stringMatching(/^[a-z0-9 _.:-]{0,12}$/),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0)), // -0 is a tag extension
    fc.boolean(),
    fc.constant(null),
  );
  const value = fc.oneof(
    plain,
    fc.array(plain, { maxLength: 3 }),
    fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), plain, { maxKeys: 3 }),
  );
  const key = fc.stringMatching(/^[a-z_]{1,8}$/);
  const fields = fc.dictionary(key, value, { maxKeys: 5 });
  fc.assert(
    fc.property(fields, fc.array(fields, { minLength: 1, maxLength: 8 }), (bindings, calls) => {
      const events = calls.map((call, i) => bound(i + 1, bindings, call));
      const payload = packEvents(events).slice();
      const bytes = payloadToJsonBytes(payload);
      const callsOverlap = calls.some((call) =>
        Object.keys(call).some((k) => Object.hasOwn(bindings, k))
      );
      if (!callsOverlap) assert.notEqual(bytes, null, "plain records are transcoded");
      if (bytes !== null) assert.equal(text.decode(bytes), payloadToJsonLines(payload));
    }),
    { numRuns: 300 },
  );
});

Deno.test("payloadToJsonBytes() leaves what it does not know to the general path, with the same result", () => {
  const odd: Record<string, unknown>[] = [
    { s: 'quote " and \\ and \n' },
    { s: "é ☃ \ud800" },
    { big: 2n ** 70n, small: 5n },
    { gone: undefined },
    { when: new Date(0) },
    { neg: -0, nan: NaN, inf: Infinity },
    { large: 2 ** 40, negLarge: -(2 ** 40) },
    { "1": "integer-like key" },
    JSON.parse('{"__proto__": {"a": 1}}'),
  ];
  for (const call of odd) {
    const payload = packEvents([bound(1, { flow_id: "f" }, call), bound(2, {}, call)]).slice();
    const expected = payloadToJsonLines(payload);
    assert.equal(exported(payload), expected, JSON.stringify(Object.keys(call)));
  }
  // Many distinct structures in one record (two-byte record ids past 64).
  const many: LogEvent[] = [];
  for (let i = 0; i < 150; i++) many.push(bound(i + 1, {}, { [`k${i}`]: i }));
  const payload = packEvents(many).slice();
  assert.equal(exported(payload), payloadToJsonLines(payload));
});
