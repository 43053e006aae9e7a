/**
 * Errors thrown by the segment store.
 *
 * @module
 */

/**
 * Thrown by `SegmentStore.open()` when another writer holds the store's lock.
 *
 * @example Tell a locked store from other failures
 * ```ts
 * import { StoreLockedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const error = new StoreLockedError("/tmp/logs", null);
 * assert.match(error.message, /readOnly/);
 * ```
 */
export class StoreLockedError extends Error {
  /** Always `"StoreLockedError"`. */
  override name: string = "StoreLockedError";
  /** The store directory. */
  readonly dir: string;

  /** `holder` describes the lock holder, as it wrote itself into the lock file. */
  constructor(dir: string, holder: string | null) {
    super(
      `Store ${dir} is in use by another writer${holder === null ? "" : ` (${holder})`}: ` +
        "close that logger first, give this one its own directory, or open the store with " +
        "{ readOnly: true } to read it",
    );
    this.dir = dir;
  }
}

/**
 * Thrown by `SegmentStore.append()` when a batch could not be encoded or
 * written; no record of that batch is readable afterwards. `cause` holds the
 * underlying error.
 *
 * @example Wrap a file-system error
 * ```ts
 * import { StoreWriteError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const error = new StoreWriteError("Could not write", new Error("No space left on device"));
 * assert.ok(error.cause instanceof Error);
 * ```
 */
export class StoreWriteError extends Error {
  /** Always `"StoreWriteError"`. */
  override name: string = "StoreWriteError";

  /** The message gets `cause`'s message appended. */
  constructor(message: string, cause: unknown) {
    super(`${message}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Thrown by a query when a segment file cannot be read for another reason
 * than damage (which is skipped and counted) or removal by retention.
 *
 * @example Wrap a read failure
 * ```ts
 * import { StoreReadError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new StoreReadError("Could not read", new Error("EIO")).name, "StoreReadError");
 * ```
 */
export class StoreReadError extends Error {
  /** Always `"StoreReadError"`. */
  override name: string = "StoreReadError";

  /** The message gets `cause`'s message appended. */
  constructor(message: string, cause: unknown) {
    super(`${message}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Thrown when a closed store is used, or a read-only store is asked to write.
 *
 * @example The message says what to do
 * ```ts
 * import { StoreStateError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.match(new StoreStateError("Store /x is closed: open it again").message, /open it again/);
 * ```
 */
export class StoreStateError extends Error {
  /** Always `"StoreStateError"`. */
  override name: string = "StoreStateError";
}
