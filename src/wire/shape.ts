/**
 * The encoder's memory of what repeats from call to call: {@linkcode ValueCache}
 * (the encoded bytes of the last short string value of each key, written by
 * {@linkcode putValue}) and {@linkcode Shape} (a call site's event name, keys
 * and their constants, written once as a shape definition; docs/internals.md
 * "Shapes by reference").
 *
 * @module
 */
import type { Redactor } from "../redact.ts";
import { isShortAscii, putAscii, putDoubles } from "./short_strings.ts";

/**
 * Whether `fields` may be written by reference to a shape: a plain object,
 * its prototype `Object.prototype` or `null` (docs/api.md "Errors and pino's
 * argument order"). An Error is written as `err` and an array as `value`; a
 * class instance takes the keyed path. One map check for the usual `{…}`
 * (bench/encoder_ab.ts "inline"); `Array.isArray` only for a null prototype.
 */
export function isPlainFields(fields: object): boolean {
  const c = (fields as { constructor?: unknown }).constructor;
  return c === Object || (c === undefined && !Array.isArray(fields));
}

/**
 * Bytes per value: tag, length and up to 48 ASCII characters, in whole 8-byte
 * units (copied as float64s: see putDoubles()).
 */
export const VALUE_SLOT_BYTES = 56;

/**
 * The last short ASCII string value written in each of `size` slots, with
 * its encoded form (tag, length, characters) in 8-byte units, and the
 * misses since its last hit: a slot whose value changes every call is left
 * empty after two misses and tried again every 256th (the counter wraps).
 */
export class ValueCache {
  /** The value whose bytes slot `i` holds (undefined: none). */
  readonly values: (string | undefined)[];
  /** Misses since slot `i` last hit. */
  readonly misses: Uint8Array;
  /** The encoded values, VALUE_SLOT_BYTES a slot, as 8-byte units. */
  readonly doubles: Float64Array;
  /** `doubles` as bytes. */
  readonly bytes: Uint8Array;

  constructor(size: number) {
    this.values = new Array(size).fill(undefined);
    this.misses = new Uint8Array(size);
    this.doubles = new Float64Array((size * VALUE_SLOT_BYTES) >> 3);
    this.bytes = new Uint8Array(this.doubles.buffer);
  }

  /** Keeps the encoded value `u8[from..to)`, the string `v`, in slot `i`. */
  keep(i: number, v: string, u8: Uint8Array, from: number, to: number): void {
    const b = this.bytes;
    const base = i * VALUE_SLOT_BYTES;
    for (let k = from; k < to; k++) b[base + k - from] = u8[k]!;
    this.values[i] = v;
  }
}

/**
 * Writes the short ASCII string `v`, the value of the key in slot `i` of
 * `cache` (its arrays passed in, loaded once per event by the caller), as
 * putAscii() does with `max`. Ids repeat call after call as the same string:
 * a cached value is one compare and a copy by 8 bytes (bench/encoder_ab.ts
 * "inline", "const").
 */
export function putValue(
  u8: Uint8Array,
  dv: DataView,
  p: number,
  end: number,
  cache: ValueCache,
  values: (string | undefined)[],
  misses: Uint8Array,
  doubles: Float64Array,
  i: number,
  v: string,
  max: number,
): number {
  if (values[i] === v) {
    misses[i] = 0;
    return putDoubles(dv, p, end, doubles, (i * VALUE_SLOT_BYTES) >> 3, v.length + 2);
  }
  const q = putAscii(u8, p, end, v, max);
  if (q >= 0) {
    // Kept on the first two misses after a hit and every 256th (the counter wraps).
    const m = ++misses[i]!;
    if (m <= 2) cache.keep(i, v, u8, p, q);
    else if (m === 3) values[i] = undefined;
  }
  return q;
}

/** What the producer keeps of a shape's definition record: its id and the epoch it was last written in. */
export interface ShapeDefinition {
  /** The shape's id (unique on its producer, shared with bindings ids). */
  readonly id: number;
  /** The ring epoch the definition was last written in (0: not since a hand-over). */
  readonly epoch: number;
}

/**
 * A call site's event name and keys, in enumeration order, as the encoder
 * learned them: its events carry the shape's id and their values only.
 */
export class Shape {
  /** The event name. */
  readonly event: string;
  /** The keys, in the order a `for…in` gives them. */
  readonly keys: readonly string[];
  /**
   * 1 where the key is sensitive (its value is written as the redaction
   * marker); null when no key is, so the encoder's loop tests no byte per key.
   */
  readonly sensitive: Uint8Array | null;
  /**
   * Each key's constant: the string value of the call the shape was learned
   * from, when short and ASCII (undefined: none). Its events write `CONSTANT`
   * for a value equal to it. Emptied only when the definition is encoded, if
   * it would not fit, before any event used it.
   */
  readonly constants: (string | undefined)[];
  /** The last string value of each key. */
  readonly values: ValueCache;
  /** Calls of the same event name with other keys since the last match. */
  misses = 0;
  /** The definition, once the producer has made one (null: never defined). */
  definition: ShapeDefinition | null = null;

  constructor(
    event: string,
    keys: string[],
    sensitive: Uint8Array | null,
    constants: (string | undefined)[],
  ) {
    this.event = event;
    this.keys = keys;
    this.sensitive = sensitive;
    this.constants = constants;
    this.values = new ValueCache(keys.length);
  }

  /**
   * The shape of `fields` (its own enumerable keys, `n` of them, as `for…in`
   * gives them) for event `event`, with each key's sensitivity under
   * `redactor` and its constant: the key's value when a plain data property
   * holds a string of at most `maxConstant` ASCII characters and the key is
   * not sensitive. Null when the keys cannot be read or are not `n`. Cold:
   * once per shape learned.
   */
  static learn(
    event: string,
    fields: Record<string, unknown>,
    n: number,
    redactor: Redactor | null,
    maxConstant: number,
  ): Shape | null {
    const keys: string[] = [];
    try {
      // A shape the shaped call would refuse would only be learned again and again.
      if (!isPlainFields(fields)) return null;
      for (const key in fields) if (Object.hasOwn(fields, key)) keys.push(key);
    } catch {
      return null;
    }
    if (keys.length !== n) return null;
    let sensitive: Uint8Array | null = null;
    if (redactor !== null) {
      for (let i = 0; i < n; i++) {
        if (redactor.isSensitiveKey(keys[i]!)) (sensitive ??= new Uint8Array(n))[i] = 1;
      }
    }
    // Pushed, not preallocated: a packed array, read once per value on the hot path.
    const constants: (string | undefined)[] = [];
    for (let i = 0; i < n; i++) {
      let v: unknown;
      try {
        // From the descriptor: a getter is not run a second time, and gives no constant.
        if (sensitive === null || sensitive[i] !== 1) {
          v = Object.getOwnPropertyDescriptor(fields, keys[i]!)?.value;
        }
      } catch {
        // A hostile Proxy: no constant for this key.
      }
      constants.push(typeof v === "string" && isShortAscii(v, maxConstant) ? v : undefined);
    }
    return new Shape(event, keys, sensitive, constants);
  }
}
