/**
 * Errors thrown by the segment store.
 *
 * @module
 */

// The lock file begins "pid N, " when its writer knew its process id (src/store/lock.ts).
const PID_PREFIX = /^pid (\d{1,10}), /;

/**
 * Thrown when another writer holds a store directory's lock: by
 * `createLogger()` with `transport: "inline"`, and as the reason a worker
 * logger gives up (its `flush()` rejects with it, `stats().error` is its
 * message). The message names the directory, the holding process when the
 * lock file names it, and what to do: another `dir` for this writer, or the
 * CLI to read the store while the other process writes.
 *
 * @example Tell a locked store from other failures
 * ```ts
 * import { StoreLockedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const error = new StoreLockedError("/tmp/logs", "pid 4242, writer 0a1b2c3d4e5f6a7b, opened 2026-12-05T10:00:00.000Z");
 * assert.equal(error.pid, 4242);
 * assert.match(error.message, /^Store "\/tmp\/logs" is locked by process 4242 /);
 * assert.match(error.message, /flightlog tail "\/tmp\/logs"/);
 * ```
 */
export class StoreLockedError extends Error {
  /** Always `"StoreLockedError"`. */
  override name: string = "StoreLockedError";
  /** The store directory. */
  readonly dir: string;
  /** The holder as it wrote itself into the lock file, or null when it could not be read. */
  readonly holder: string | null;
  /** The process id of the holder, when the lock file names it (else null). */
  readonly pid: number | null;

  /** `holder` describes the lock holder, as it wrote itself into the lock file. */
  constructor(dir: string, holder: string | null) {
    const match = holder === null ? null : PID_PREFIX.exec(holder);
    const pid = match === null ? null : Number(match[1]);
    const who = pid === null ? "another writer" : `process ${pid}`;
    const self = pid !== null && pid === processId() ? "this process; " : "";
    const rest = holder === null ? "" : match === null ? holder : holder.slice(match[0].length);
    super(
      `Store ${JSON.stringify(dir)} is locked by ${who}${
        rest === "" ? "" : ` (${self}${rest})`
      }: ` +
        "give this logger another dir, or close that writer first; to read the store while it " +
        `is written, use the CLI (flightlog tail ${JSON.stringify(dir)}), which takes no lock`,
    );
    this.dir = dir;
    this.holder = holder;
    this.pid = pid;
  }
}

/**
 * The text of an error for a message: its `message`; for a browser's
 * `DOMException` (e.g. IndexedDB's `QuotaExceededError`), whose name is the
 * reason and whose message is often empty, its name first (or alone).
 *
 * @example A DOMException with an empty message
 * ```ts
 * import { errorText } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(errorText(new DOMException("", "QuotaExceededError")), "QuotaExceededError");
 * assert.equal(
 *   errorText(new DOMException("Quota exceeded.", "QuotaExceededError")),
 *   "QuotaExceededError: Quota exceeded.",
 * );
 * assert.equal(errorText(new Error("disk full")), "disk full");
 * ```
 */
export function errorText(err: unknown): string {
  if (typeof err !== "object" || err === null) return String(err);
  const { name, message } = err as { name?: unknown; message?: unknown };
  const text = typeof message === "string" ? message : "";
  const kind = typeof name === "string" ? name : "";
  if (text === "") return kind === "" ? String(err) : kind;
  const named = typeof DOMException === "function" && err instanceof DOMException;
  return named && kind !== "" && !text.includes(kind) ? `${kind}: ${text}` : text;
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

  /** The message gets `cause`'s text appended (its name too, see {@linkcode errorText}). */
  constructor(message: string, cause: unknown) {
    super(`${message}: ${errorText(cause)}`, { cause });
  }
}

/**
 * Thrown by `IdbStore.append()` and `sync()` when the origin's storage quota
 * refuses a write even though every flightlog record of the database has
 * been evicted (the space is taken by other data, or the batch alone is
 * larger than the quota). `cause` holds the browser's `QuotaExceededError`.
 *
 * @example Tell a full origin from other write failures
 * ```ts
 * import { StoreFullError, StoreWriteError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const error = new StoreFullError("db", 3, new DOMException("", "QuotaExceededError"));
 * assert.ok(error instanceof StoreWriteError);
 * assert.match(error.message, /QuotaExceededError/);
 * ```
 */
export class StoreFullError extends StoreWriteError {
  /** Always `"StoreFullError"`. */
  override name: string = "StoreFullError";

  /** `events`: the size of the refused batch. */
  constructor(database: string, events: number, cause: unknown) {
    super(
      `The origin's storage quota refused ${events} events even with every flightlog record of ` +
        `IndexedDB database "${database}" evicted: free space of this origin or grant it more`,
      cause,
    );
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
    super(`${message}: ${errorText(cause)}`, { cause });
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

/** This process's id (Deno, Node.js), or undefined where there is none (a page). */
export function processId(): number | undefined {
  return globalThis.Deno?.pid ?? (globalThis as { process?: { pid?: number } }).process?.pid;
}
