/**
 * The codec: the compact binary form of an event, written by the caller into
 * its ring and decoded by the worker. No JSON and no msgpack on the caller's
 * thread: the caller only copies bytes; the worker builds objects and hands
 * them to msgpackr. The format is docs/internals.md "Records" and "Values".
 *
 * One import for both sides: the value tags and limits
 * (`src/wire/value_format.ts`), the caller's {@linkcode Encoder}
 * (`src/wire/encoder.ts`, the hot path) and the worker's {@linkcode Decoder}
 * (`src/wire/decoder.ts`).
 *
 * @module
 */
export {
  DEFAULT_LIMITS,
  type Limits,
  MAX_DECODE_DEPTH,
  MIN_RECORD_BYTES,
  safeString,
  Tag,
} from "./value_format.ts";
export { Encoder } from "./encoder.ts";
export { Decoder, RecordDecodeError } from "./decoder.ts";
