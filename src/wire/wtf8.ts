/**
 * Generalized UTF-8 (WTF-8): the bytes that carry any JS string exactly,
 * lone surrogates included. UTF-8 cannot hold a lone surrogate (TextEncoder
 * writes U+FFFD in its place); WTF-8 is UTF-8 that also writes each lone
 * surrogate U+D800–U+DFFF as its own 3-byte sequence, `ED A0 80` to
 * `ED BF BF`. A surrogate pair is always the 4-byte sequence of its code
 * point, so a well-formed string has the same bytes in both, and each string
 * has exactly one encoding.
 *
 * flightlog uses it only for strings that are not well-formed
 * (`String.prototype.isWellFormed()` is false): the ring's `WTF8` value tag
 * (`src/wire/codec.ts`) and the store's string extension
 * (docs/internals.md "Payload").
 *
 * @module
 */

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Writes `s` as WTF-8 into `u8[at..end)` and returns the position after it,
 * or -1 when it does not fit (what was written before `end` is then garbage).
 * Plain writes, so `u8` may be a view of shared memory.
 *
 * @example A lone high surrogate after an ASCII letter
 * ```ts
 * import { encodeWtf8Into } from "./wtf8.ts";
 * import assert from "node:assert/strict";
 * const out = new Uint8Array(8);
 * assert.equal(encodeWtf8Into("a\ud800", out, 0, 8), 4);
 * assert.deepEqual([...out.subarray(0, 4)], [0x61, 0xed, 0xa0, 0x80]);
 * ```
 */
export function encodeWtf8Into(s: string, u8: Uint8Array, at: number, end: number): number {
  const len = s.length;
  let p = at;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      if (p >= end) return -1;
      u8[p++] = c;
    } else if (c < 0x800) {
      if (p + 2 > end) return -1;
      u8[p++] = 0xc0 | (c >> 6);
      u8[p++] = 0x80 | (c & 0x3f);
    } else if (
      (c & 0xfc00) === 0xd800 && i + 1 < len && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      if (p + 4 > end) return -1;
      c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
      u8[p++] = 0xf0 | (c >> 18);
      u8[p++] = 0x80 | ((c >> 12) & 0x3f);
      u8[p++] = 0x80 | ((c >> 6) & 0x3f);
      u8[p++] = 0x80 | (c & 0x3f);
    } else {
      // Any other BMP code unit, a lone surrogate included.
      if (p + 3 > end) return -1;
      u8[p++] = 0xe0 | (c >> 12);
      u8[p++] = 0x80 | ((c >> 6) & 0x3f);
      u8[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p;
}

/**
 * `s` as WTF-8 bytes.
 *
 * @example The bytes of a lone low surrogate
 * ```ts
 * import { encodeWtf8 } from "./wtf8.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([...encodeWtf8("\udc00")], [0xed, 0xb0, 0x80]);
 * ```
 */
export function encodeWtf8(s: string): Uint8Array {
  // 3 bytes per UTF-16 code unit at most (a pair takes 4 for 2 units).
  const out = new Uint8Array(3 * s.length);
  return out.subarray(0, encodeWtf8Into(s, out, 0, out.length));
}

/**
 * Decodes WTF-8 bytes into the string they were written from. Throws a
 * `TypeError` for bytes that are not WTF-8 (invalid UTF-8 apart from lone
 * surrogates, or a surrogate pair written as two 3-byte sequences): damage
 * is reported, never replaced by U+FFFD.
 *
 * @example Round trip
 * ```ts
 * import { decodeWtf8, encodeWtf8 } from "./wtf8.ts";
 * import assert from "node:assert/strict";
 * const s = "lone\ud800x \u{1F680} \udfff";
 * assert.equal(decodeWtf8(encodeWtf8(s)), s);
 * ```
 */
export function decodeWtf8(bytes: Uint8Array): string {
  let out = "";
  let from = 0;
  // End of the last surrogate sequence when it was a high one: a low one right
  // after it would make a pair, which WTF-8 writes as one 4-byte sequence.
  let highEnd = -1;
  const n = bytes.length;
  // 0xED is a lead byte (never a continuation byte), so a scan for it finds
  // every 3-byte sequence of U+D000–U+DFFF; ED A0..BF are the surrogates.
  for (let i = bytes.indexOf(0xed); i >= 0 && i < n; i = bytes.indexOf(0xed, i + 1)) {
    const b2 = bytes[i + 1];
    if (b2 === undefined || b2 < 0xa0) continue;
    const b3 = bytes[i + 2];
    if (b2 > 0xbf || b3 === undefined || (b3 & 0xc0) !== 0x80) throw notWtf8();
    const unit = 0xd000 | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
    if (unit >= 0xdc00 && highEnd === i) throw notWtf8();
    if (from < i) out += utf8(bytes.subarray(from, i));
    out += String.fromCharCode(unit);
    from = i + 3;
    highEnd = unit < 0xdc00 ? from : -1;
    i += 2;
  }
  return from === 0 ? utf8(bytes) : out + utf8(bytes.subarray(from));
}

function utf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw notWtf8();
  }
}

function notWtf8(): TypeError {
  return new TypeError("Bytes are not WTF-8: the string is damaged");
}
