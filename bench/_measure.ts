/**
 * How the benchmarks time calls and report them: interleaved timed batches,
 * medians and quartiles, Markdown tables. Pure JavaScript, no runtime API, so
 * that the Node.js side of the peer comparison (bench/_node_peers.ts) times
 * and prints as the Deno side does. Re-exported by bench/_workload.ts.
 *
 * @module
 */
import { quantile } from "../src/bench/workload.ts";

export { quantile };

// --- Timed batches -----------------------------------------------------------------------------

/** Calls per timed batch, so that the clock's resolution does not matter. */
export const BATCH = 1000;
/** Batches run before the kept ones, while V8 compiles. */
export const WARMUP = 30;
/** Batches kept for the medians. */
export const BATCHES = 200;

/** Runs `loop(n)` once and returns nanoseconds per iteration. */
export function timeLoop(loop: (n: number) => void, n: number): number {
  const t0 = performance.now();
  loop(n);
  return ((performance.now() - t0) * 1e6) / n;
}

/** One contender of {@linkcode interleave}. */
export interface Contender {
  /** `n` calls, timed as one batch. */
  loop(n: number): void;
  /** Untimed, right after each of its batches: empties its buffers. */
  settle?(): Promise<void>;
}

/** How {@linkcode interleave} runs. */
export interface Plan {
  /** Calls per batch. @default {@linkcode BATCH} */
  batch?: number;
  /** Rounds whose samples are not kept. @default {@linkcode WARMUP} */
  warmup?: number;
  /** Rounds kept. @default {@linkcode BATCHES} */
  batches?: number;
  /** Untimed, after each round; resolving to `false` discards the round's samples. */
  afterRound?(): Promise<boolean | void>;
}

/**
 * Times every contender's batches, ns per call, one batch each per round.
 * They take turns and the one that goes first rotates with each round, so
 * drift in the speed of a shared machine hits them all alike.
 */
export async function interleave(contenders: Contender[], plan: Plan = {}): Promise<number[][]> {
  const { batch = BATCH, warmup = WARMUP, batches = BATCHES, afterRound } = plan;
  const samples: number[][] = contenders.map(() => []);
  const round: number[] = contenders.map(() => NaN);
  for (let b = 0; b < warmup + batches; b++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = (b + k) % contenders.length;
      const contender = contenders[c]!;
      round[c] = timeLoop((n) => contender.loop(n), batch);
      if (contender.settle !== undefined) await contender.settle();
    }
    const keep = afterRound === undefined ? true : await afterRound();
    if (b >= warmup && keep !== false) round.forEach((ns, c) => samples[c]!.push(ns));
  }
  return samples;
}

/** Events timed in each half of an end-to-end round (cold, then warm). */
export const E2E_EVENTS = 100_000;
/**
 * Untimed events between a round's cold and warm halves: with the cold ones,
 * enough for the inline workload's records (56 bytes) to fill the default
 * 16 MiB ring once, so that warm runs on a ring whose pages are resident.
 */
export const WARM_UP_EVENTS = 400_000;
/** Events an end-to-end round emits in all: cold, warm-up and warm. */
export const E2E_EMITTED = 2 * E2E_EVENTS + WARM_UP_EVENTS;

/**
 * One end-to-end round on a fresh logger, `emit(n)` resolving once `n` more
 * events are written: ms for its first {@linkcode E2E_EVENTS} (cold), then,
 * after {@linkcode WARM_UP_EVENTS} untimed, for {@linkcode E2E_EVENTS} more (warm).
 */
export async function coldAndWarm(
  emit: (n: number) => Promise<void>,
): Promise<{ coldMs: number; warmMs: number }> {
  const t0 = performance.now();
  await emit(E2E_EVENTS);
  const coldMs = performance.now() - t0;
  await emit(WARM_UP_EVENTS);
  const t1 = performance.now();
  await emit(E2E_EVENTS);
  return { coldMs, warmMs: performance.now() - t1 };
}

// --- Statistics and tables ---------------------------------------------------------------------

/** Median of `xs` (which is sorted in place). */
export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** Median, 25th and 75th percentile of `xs` (left unsorted), formatted. */
export function quartiles(xs: number[], digits = 1): [string, string, string] {
  const sorted = [...xs];
  return [
    fmt(median(sorted), digits),
    fmt(quantile(sorted, 0.25), digits),
    fmt(quantile(sorted, 0.75), digits),
  ];
}

/** Formats a number with `digits` decimals, or "–" when it is not finite. */
export function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "–";
}

/** Formats an integer with thin thousands separators. */
export function fmtInt(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–";
}

/** Renders rows as a Markdown table (first row is the header), columns padded. */
export function table(rows: string[][], align: ("l" | "r")[] = []): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 3, cell.length)));
  }
  const pad = (cell: string, i: number): string =>
    align[i] === "r" ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
  const line = (row: string[]): string => `| ${row.map(pad).join(" | ")} |`;
  const rule = `| ${
    widths.map((w, i) => (align[i] === "r" ? "-".repeat(w - 1) + ":" : "-".repeat(w))).join(" | ")
  } |`;
  const [head, ...body] = rows;
  return [line(head ?? []), rule, ...body.map(line)].join("\n");
}
