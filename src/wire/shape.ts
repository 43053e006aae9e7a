/**
 * The encoder's memory of what repeats from call to call: {@linkcode ValueCache}
 * (the encoded bytes of the last short string value of each key) and
 * {@linkcode Shape} (a call site's event name and keys, written once as a
 * shape definition; docs/internals.md "Shapes by reference").
 *
 * @module
 */

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
}
