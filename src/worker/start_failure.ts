/**
 * How a store worker that could not start says why, as both sides see it: the
 * worker writes its reason into a shared buffer before it marks the consumer
 * failed (Deno), and a page whose worker script did not load gets a
 * {@linkcode WorkerStartError} (browsers).
 *
 * @module
 */
import { ConsumerState, FLUSH_ACK, STATE } from "../wire/ring.ts";

/** Bytes of the buffer a worker writes its start-up failure into ({@linkcode reportStartFailure}). */
export const FAILURE_BYTES = 1024;

/**
 * In a worker whose store cannot open: writes `message` into `failure` (a
 * u32 byte length, then UTF-8, cut to fit) and only then stores `STATE` =
 * failed and wakes a synchronous flush, so a front end that waits for one at
 * exit stops waiting and can say why (docs/internals.md "Control buffer").
 */
export function reportStartFailure(
  failure: SharedArrayBuffer,
  control: SharedArrayBuffer | ArrayBuffer,
  message: string,
): void {
  const text = new Uint8Array(failure, 4);
  const { written } = new TextEncoder().encodeInto(message, text);
  Atomics.store(new Int32Array(failure, 0, 1), 0, written);
  const c = new Int32Array(control);
  Atomics.store(c, STATE, ConsumerState.failed);
  Atomics.notify(c, FLUSH_ACK);
}

/** The message {@linkcode reportStartFailure} wrote, or null when none was. */
export function startFailure(failure: SharedArrayBuffer): string | null {
  const n = Atomics.load(new Int32Array(failure, 0, 1), 0);
  if (n === 0) return null;
  return new TextDecoder().decode(new Uint8Array(failure, 4, n).slice());
}

/**
 * A worker that ended before it ever ran: its script did not load or did not
 * run. `transient` when the network failed (worth another attempt); `url` is
 * the script's URL.
 *
 * @example What the transport makes of it
 * ```ts
 * import { WorkerStartError } from "./start_failure.ts";
 * import assert from "node:assert/strict";
 * const err = new WorkerStartError("https://app.example/flightlog_worker.js", "answered HTTP 404", false);
 * assert.match(err.message, /flightlog_worker\.js answered HTTP 404/);
 * ```
 */
export class WorkerStartError extends Error {
  /** Always `"WorkerStartError"`. */
  override name = "WorkerStartError";
  /** The worker script's URL (a `blob:` URL for the inlined bundle). */
  readonly url: string;
  /** True when another attempt may succeed (the fetch failed, no HTTP answer). */
  readonly transient: boolean;

  /** `why` completes "its script <url> …". */
  constructor(url: string, why: string, transient: boolean) {
    super(`The flightlog worker could not start: its script ${url} ${why}`);
    this.url = url;
    this.transient = transient;
  }
}
