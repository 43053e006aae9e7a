/**
 * The OTLP/HTTP delivery rules as pure functions: what a response means,
 * how long to wait before the next attempt. Time and randomness are passed
 * in, so the rules are tested without waiting.
 *
 * @module
 */

/** What to do with a batch after one attempt. */
export type Outcome =
  /** 2xx: acknowledged (a partial success is recorded, not retried). */
  | "ok"
  /** 429, 502, 503, 504 or a network error: send the same batch again later. */
  | "retry"
  /** 413: the batch is too large; send it again in halves. */
  | "split"
  /** Any other status: the receiver will never take it; move it to the dead-letter area. */
  | "reject";

/**
 * Classifies an HTTP status by the OTLP/HTTP rules: only 429, 502, 503 and
 * 504 are retryable, 413 splits the batch, every other non-2xx is final.
 *
 * @example Classify statuses
 * ```ts
 * import { classifyStatus } from "./policy.ts";
 * import assert from "node:assert/strict";
 * assert.equal(classifyStatus(200), "ok");
 * assert.equal(classifyStatus(503), "retry");
 * assert.equal(classifyStatus(413), "split");
 * assert.equal(classifyStatus(400), "reject");
 * assert.equal(classifyStatus(500), "reject");
 * ```
 */
export function classifyStatus(status: number): Outcome {
  if (status >= 200 && status < 300) return "ok";
  if (status === 429 || status === 502 || status === 503 || status === 504) return "retry";
  if (status === 413) return "split";
  return "reject";
}

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP date, relative to
 * `nowMs`. Returns the delay in ms (0 for a date in the past), or null when
 * the header is missing or unreadable (then backoff applies).
 *
 * @example Seconds and dates
 * ```ts
 * import { parseRetryAfter } from "./policy.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseRetryAfter("3", 0), 3000);
 * assert.equal(parseRetryAfter("Thu, 01 Jan 1970 00:00:10 GMT", 4000), 6000);
 * assert.equal(parseRetryAfter("soon", 0), null);
 * ```
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date always names a day and a year; Date.parse alone accepts far too much.
  if (!/^[A-Za-z]{3},/.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** Bounds of the exponential backoff. */
export interface BackoffOptions {
  /**
   * Delay before the first retry.
   * @default {1000}
   */
  initialMs: number;
  /**
   * Longest delay between two attempts, including one asked by `Retry-After`.
   * @default {300000}
   */
  maxMs: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry):
 * `initialMs × 2^(attempt−1)`, capped at `maxMs`, with "equal jitter" (a
 * uniform draw in [50%, 100%] of it, so it never drops near zero) so a fleet that went offline together
 * does not come back in lockstep. `random` returns a number in [0, 1).
 *
 * @example Grows, then stays under the cap
 * ```ts
 * import { backoffDelay } from "./policy.ts";
 * import assert from "node:assert/strict";
 * const options = { initialMs: 1000, maxMs: 60_000 };
 * assert.equal(backoffDelay(1, options, () => 0.999999), 999.9995);
 * assert.equal(backoffDelay(3, options, () => 0), 2000);
 * assert.ok(backoffDelay(40, options, Math.random) <= 60_000);
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number,
): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt - 1, 52));
  return ceiling / 2 + (ceiling / 2) * random();
}

/**
 * The delay after a retryable failure: the receiver's `Retry-After` when it
 * gave one (capped at `maxMs`, so a hostile or broken header cannot stall
 * delivery for days), else {@linkcode backoffDelay}.
 *
 * @example Retry-After wins over backoff
 * ```ts
 * import { retryDelay } from "./policy.ts";
 * import assert from "node:assert/strict";
 * const options = { initialMs: 1000, maxMs: 60_000 };
 * assert.equal(retryDelay(5, 7000, options, () => 0), 7000);
 * assert.equal(retryDelay(5, 1e9, options, () => 0), 60_000);
 * assert.equal(retryDelay(1, null, options, () => 0), 500);
 * ```
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | null,
  options: BackoffOptions,
  random: () => number,
): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, options.maxMs);
  return backoffDelay(attempt, options, random);
}
