import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeWtf8, encodeWtf8, encodeWtf8Into } from "../../src/wire/wtf8.ts";
import { anyString } from "../support/any_string.ts";

Deno.test("encodeWtf8() writes each lone surrogate as its 3-byte sequence and pairs as UTF-8", () => {
  const cases: [string, number[]][] = [
    ["\ud800", [0xed, 0xa0, 0x80]],
    ["\udbff", [0xed, 0xaf, 0xbf]],
    ["\udc00", [0xed, 0xb0, 0x80]],
    ["\udfff", [0xed, 0xbf, 0xbf]],
    ["\ud800\udc00", [0xf0, 0x90, 0x80, 0x80]],
    ["\udc00\ud800", [0xed, 0xb0, 0x80, 0xed, 0xa0, 0x80]],
    ["\ud7ff\ue000", [0xed, 0x9f, 0xbf, 0xee, 0x80, 0x80]],
    ["a\ud800", [0x61, 0xed, 0xa0, 0x80]],
  ];
  for (const [s, bytes] of cases) {
    assert.deepEqual([...encodeWtf8(s)], bytes, JSON.stringify(s));
    assert.equal(decodeWtf8(Uint8Array.from(bytes)), s);
  }
});

Deno.test("encodeWtf8() equals UTF-8 for well-formed strings, and decodeWtf8() inverts it for any string (fast-check)", () => {
  const utf8 = new TextEncoder();
  const text = anyString(200);
  fc.assert(
    fc.property(text, (s) => {
      const bytes = encodeWtf8(s);
      if (s.isWellFormed()) assert.deepEqual(bytes, utf8.encode(s));
      assert.equal(decodeWtf8(bytes), s);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("decodeWtf8() rejects bytes that are not WTF-8 instead of replacing them", () => {
  const damaged = [
    [0xed, 0xa0], // cut short
    [0xed, 0xa0, 0x41], // not a continuation byte
    [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80], // a pair written as two surrogates
    [0x61, 0xff],
    [0xc3],
    [0x80, 0xed, 0xa0, 0x80],
  ];
  for (const bytes of damaged) {
    assert.throws(() => decodeWtf8(Uint8Array.from(bytes)), TypeError, `${bytes}`);
  }
});

Deno.test("encodeWtf8Into() returns -1 when the string does not fit", () => {
  const out = new Uint8Array(8);
  assert.equal(encodeWtf8Into("ab\ud800", out, 2, 6), -1);
  assert.equal(encodeWtf8Into("ab\ud800", out, 2, 7), 7);
  assert.equal(encodeWtf8Into("\u{1F680}", out, 0, 3), -1);
  assert.equal(encodeWtf8Into("", out, 8, 8), 8);
});
