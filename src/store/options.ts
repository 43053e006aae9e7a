/**
 * Retention and rotation of a store: the options of the `store` key of
 * `createLogger()`, shared by the segment-file store and IndexedDB, and
 * their check. The check runs once, on the caller's thread; the stores trust
 * what they are given.
 *
 * @module
 */

/** Retention and rotation of the segment-file store. */
export interface StoreOptions {
  /**
   * Size at which a segment file is sealed and a new one begun.
   * @default {8388608}
   */
  segmentBytes?: number;
  /**
   * Total bytes kept; the oldest segments are evicted beyond it.
   * @default {536870912 (64 MiB in browsers)}
   */
  maxBytes?: number;
  /**
   * Age after which a sealed segment is evicted.
   * @default {604800000}
   */
  maxAgeMs?: number;
}

/** Every key of {@linkcode StoreOptions}: the compiler keeps it complete. */
export const STORE_OPTION_KEYS: Readonly<Record<keyof StoreOptions, true>> = {
  segmentBytes: true,
  maxBytes: true,
  maxAgeMs: true,
};

/**
 * Checks the values of the `store` option and returns a copy of those given.
 * Absent keys stay absent: their defaults belong to the store that opens
 * (segment files keep 512 MiB, IndexedDB 64 MiB of an origin's shared
 * quota). Throws a `RangeError` naming the option.
 *
 * @example A size that cannot be
 * ```ts
 * import { resolveStoreOptions } from "./options.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(resolveStoreOptions({ maxBytes: Infinity }), { maxBytes: Infinity });
 * assert.throws(() => resolveStoreOptions({ segmentBytes: -1 }), /store\.segmentBytes/);
 * ```
 */
export function resolveStoreOptions(options: StoreOptions): StoreOptions {
  const out: StoreOptions = {};
  for (const key of Object.keys(CHECKS) as (keyof StoreOptions)[]) {
    const value = options[key];
    if (value === undefined) continue;
    const { valid, kind, hint } = CHECKS[key];
    if (!valid(value)) {
      throw new RangeError(`Option store.${key} must be ${kind}, got ${String(value)}: ${hint}`);
    }
    out[key] = value;
  }
  return out;
}

const isPositive = (v: unknown) => typeof v === "number" && v > 0;

/** What each option accepts, in the words of its error message, and what to give instead. */
const CHECKS: Readonly<
  Record<keyof StoreOptions, { valid(v: unknown): boolean; kind: string; hint: string }>
> = {
  segmentBytes: {
    valid: (v) => Number.isSafeInteger(v) && (v as number) >= 1,
    kind: "a positive integer",
    hint: "use a size in bytes such as 8388608",
  },
  maxBytes: {
    valid: isPositive,
    kind: "a positive number",
    hint: "use a size in bytes, or Infinity for no limit",
  },
  maxAgeMs: {
    valid: isPositive,
    kind: "a positive number",
    hint: "use milliseconds, or Infinity for no limit",
  },
};
