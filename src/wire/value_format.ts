/**
 * The values of a record, as the caller's encoder writes them and the worker's
 * decoder reads them: a one-byte {@linkcode Tag}, then its payload
 * (docs/internals.md "Values"; `tests/wire/codec_test.ts` pins the tags), and
 * the {@linkcode Limits} the encoder applies to one event (docs/api.md
 * "Limits on one event").
 *
 * A string, key, event name or placeholder text that is not well-formed
 * UTF-16 (it holds a lone surrogate, which UTF-8 cannot carry) is written as
 * `WTF8` (0x0e: u32 byte length, then WTF-8 bytes) instead of `STR` /
 * `PLACEHOLDER`: UTF-8 with each lone surrogate as its own 3-byte sequence
 * `ED A0 80`–`ED BF BF` (`src/wire/wtf8.ts`), decoded back to the very same
 * string; a pair's key may be `WTF8` too. Well-formed strings never use it. A
 * string cut at `maxStringLength` is cut one code unit short rather than
 * between the two halves of a surrogate pair. `CONSTANT` (0x0f, no payload)
 * is a value only in an event of a shape: the constant its definition gives
 * that key (docs/internals.md "Shapes by reference").
 *
 * @module
 */

/** Value tags. */
export const Tag = {
  NULL: 0x00,
  UNDEFINED: 0x01,
  FALSE: 0x02,
  TRUE: 0x03,
  INT: 0x04,
  FLOAT: 0x05,
  STR: 0x06,
  ASCII: 0x07,
  BIGINT: 0x08,
  DATE: 0x09,
  ERROR: 0x0a,
  OBJECT: 0x0b,
  ARRAY: 0x0c,
  PLACEHOLDER: 0x0d,
  WTF8: 0x0e,
  CONSTANT: 0x0f,
} as const;

/** Bounds on what one event may carry. */
export interface Limits {
  /**
   * Characters kept of a string value; the rest is cut with a `…[+N chars]` marker.
   * @default {8192}
   */
  maxStringLength: number;
  /**
   * Nesting depth kept below the fields object; deeper values become `[Object]` / `[Array]`.
   * @default {8}
   */
  maxDepth: number;
  /**
   * Keys kept per object (and fields per event).
   * @default {64}
   */
  maxKeys: number;
  /**
   * Items kept per array (and entries per Map or Set).
   * @default {100}
   */
  maxArrayLength: number;
  /**
   * Bytes of one encoded record, framing included. The ring holds at least four.
   * @default {65536}
   */
  maxRecordBytes: number;
}

/** The default {@linkcode Limits}. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxStringLength: 8192,
  maxDepth: 8,
  maxKeys: 64,
  maxArrayLength: 100,
  maxRecordBytes: 65536,
});

/** Smallest allowed `maxRecordBytes`. */
export const MIN_RECORD_BYTES = 256;
/** Deepest nesting the decoder accepts, and the largest allowed `limits.maxDepth`. */
export const MAX_DECODE_DEPTH = 1000;

/** String(v) that never throws. */
export function safeString(v: unknown): string {
  try {
    return typeof v === "symbol" ? v.toString() : String(v);
  } catch {
    return "[Unserializable]";
  }
}
