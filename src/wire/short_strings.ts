/**
 * Short strings as record values (docs/internals.md "Values"), written byte
 * by byte where that beats `TextEncoder`: the encoder's hot-path helpers.
 *
 * @module
 */
import { Tag } from "./value_format.ts";

/**
 * Writes `s` as an ASCII value at `pos` and returns the position after it, or
 * -1 (writing nothing that counts) when it is longer than `max` characters, not
 * ASCII, or would pass `end`. A byte loop beats TextEncoder.encodeInto's call
 * overhead up to about 48 characters (bench/codec_bench.ts "string").
 */
export function putAscii(u8: Uint8Array, pos: number, end: number, s: string, max: number): number {
  const len = s.length;
  if (len > max || pos + 2 + len > end) return -1;
  const p = pos + 2;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return -1;
    u8[p + i] = c;
  }
  u8[pos] = Tag.ASCII;
  u8[pos + 1] = len;
  return p + len;
}

/** True when `s` has at most `max` characters, all ASCII. */
export function isShortAscii(s: string, max: number): boolean {
  if (s.length > max) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Where to cut `s` to keep at most `max` code units: one fewer when `max`
 * would fall between the halves of a surrogate pair, so a cut never makes a
 * lone surrogate.
 */
export function cutAt(s: string, max: number): number {
  return (s.charCodeAt(max - 1) & 0xfc00) === 0xd800 && (s.charCodeAt(max) & 0xfc00) === 0xdc00
    ? max - 1
    : max;
}

/**
 * Writes `s` (at most 48 code units) as a STR value, or as WTF8 when it holds
 * a lone surrogate, at `pos`; returns the position after it, or -1 (writing
 * nothing that counts) when 3 bytes per unit might not fit before `end`. For
 * short non-ASCII strings a loop beats encodeInto's call plus the
 * isWellFormed() check it would need (bench/codec_bench.ts "text").
 */
export function putShortText(u8: Uint8Array, pos: number, end: number, s: string): number {
  const len = s.length;
  if (pos + 5 + 3 * len > end) return -1;
  let tag: number = Tag.STR;
  let p = pos + 5;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      u8[p++] = c;
    } else if (c < 0x800) {
      u8[p++] = 0xc0 | (c >> 6);
      u8[p++] = 0x80 | (c & 0x3f);
    } else if (
      c < 0xdc00 && c >= 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      c = 0x10000 + ((c & 0x3ff) << 10) + (s.charCodeAt(++i) & 0x3ff);
      u8[p++] = 0xf0 | (c >> 18);
      u8[p++] = 0x80 | ((c >> 12) & 0x3f);
      u8[p++] = 0x80 | ((c >> 6) & 0x3f);
      u8[p++] = 0x80 | (c & 0x3f);
    } else {
      if ((c & 0xf800) === 0xd800) tag = Tag.WTF8;
      u8[p++] = 0xe0 | (c >> 12);
      u8[p++] = 0x80 | ((c >> 6) & 0x3f);
      u8[p++] = 0x80 | (c & 0x3f);
    }
  }
  // The byte length is below 256 (48 units, 3 bytes each at most).
  u8[pos] = tag;
  u8[pos + 1] = p - pos - 5;
  u8[pos + 2] = 0;
  u8[pos + 3] = 0;
  u8[pos + 4] = 0;
  return p;
}

/**
 * Copies `n` bytes kept in `doubles[base..]` to `pos`, 8 at a time; returns
 * the position after them, or -1 when they do not fit before `end`. Every
 * kept byte is below 0x80 (a tag, a length up to 48, ASCII), so no 8 of them
 * form a NaN and a float64 load and store move them bit for bit; one store
 * per 8 bytes instead of 2 (bench/encoder_ab.ts "inline"). Up to 7 bytes past
 * the string are clobbered: they lie before `end` and are written next.
 */
export function putDoubles(
  dv: DataView,
  pos: number,
  end: number,
  doubles: Float64Array,
  base: number,
  n: number,
): number {
  if (pos + n + 7 > end) return -1;
  for (let i = 0; i < n; i += 8) dv.setFloat64(pos + i, doubles[base + (i >> 3)]!, true);
  return pos + n;
}

/**
 * Copies `n` bytes kept as little-endian words from `words[base..]` to `pos`;
 * returns the position after them, or -1 when they do not fit before `end`.
 * Whole words are written, so up to 3 bytes past the string are clobbered:
 * they lie before `end` and are written next.
 */
export function putWords(
  dv: DataView,
  pos: number,
  end: number,
  words: Uint32Array,
  base: number,
  n: number,
): number {
  if (pos + n + 3 > end) return -1;
  for (let i = 0; i < n; i += 4) dv.setUint32(pos + i, words[base + (i >> 2)]!, true);
  return pos + n;
}
