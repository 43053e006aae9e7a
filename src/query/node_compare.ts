/**
 * Comparing each node's durations between two sets of statistics (two time
 * windows, two runs, two stores): the p50 and p99 change in percent, and
 * whether the change is beyond noise.
 *
 * The test is a two-sided Mann–Whitney U computed from the two duration
 * sketches' bucket counts: both sketches map a duration to the same bucket,
 * so the values of one bucket are ties and every pair across buckets is
 * ordered. U = Σ_k a_k·(B_{<k} + b_k/2), with the tie-corrected variance
 * n₁n₂/12·((n + 1) − Σ(t³ − t)/(n(n − 1))) and the normal approximation.
 * A node is marked `slower` or `faster` when |z| ≥ {@linkcode CHANGE_Z}
 * (two-sided p < 0.001), both sides have at least
 * {@linkcode CHANGE_MIN_COUNT} executions, and its p50 or p99 moved by at
 * least {@linkcode CHANGE_MIN_PERCENT}% in that direction (a shift smaller
 * than the sketches' 2% buckets is not told apart from rounding). The test
 * is deterministic: no sampling, no seed.
 *
 * @module
 */
import type { DurationSketch } from "./duration_sketch.ts";
import type { NodeStatsEntry, NodeStatsRow } from "./node_stats.ts";

/** |z| from which a change is beyond noise: 3.29, two-sided p < 0.001. */
export const CHANGE_Z = 3.29;

/** Executions each side needs before a change is marked (the normal approximation's floor). */
export const CHANGE_MIN_COUNT = 8;

/** Smallest p50 or p99 change, in percent, that is marked. */
export const CHANGE_MIN_PERCENT = 5;

/** One node in both sets (or in one of them). */
export interface NodeChange {
  /** The node's flow, or null. */
  flow_id: string | null;
  /** `step` or `node`. */
  kind: "step" | "node";
  /** Its name. */
  name: string;
  /** Its `step_type` or `category`, or null. */
  tag: string | null;
  /** The baseline's row, or null for a node new since. */
  baseline: NodeStatsRow | null;
  /** The current row, or null for a node gone since. */
  current: NodeStatsRow | null;
  /** p50 change in percent (current over baseline); null when either side has no duration, or from 0. */
  p50_change: number | null;
  /** p99 change in percent; null when either side has no duration, or from 0. */
  p99_change: number | null;
  /** The Mann–Whitney z (positive: current slower), or null when either side has no duration. */
  z: number | null;
  /** `slower` / `faster` beyond noise, `same` within it, `new` / `gone`, or `few` (too few executions). */
  verdict: "slower" | "faster" | "same" | "new" | "gone" | "few";
}

/**
 * The Mann–Whitney z of `current` against `baseline` from their buckets:
 * positive when `current`'s durations tend to be larger. 0 when every value
 * is tied; NaN when either side is empty.
 *
 * @example A node twice as slow
 * ```ts
 * import { DurationSketch } from "./duration_sketch.ts";
 * import { mannWhitneyZ } from "./node_compare.ts";
 * import assert from "node:assert/strict";
 * const before = new DurationSketch();
 * const after = new DurationSketch();
 * for (let i = 1; i <= 50; i++) {
 *   before.add(10 + i);
 *   after.add(2 * (10 + i));
 * }
 * assert.ok(mannWhitneyZ(before, after) > 3.29);
 * ```
 */
export function mannWhitneyZ(baseline: DurationSketch, current: DurationSketch): number {
  const n1 = current.count;
  const n2 = baseline.count;
  if (n1 === 0 || n2 === 0) return NaN;
  const a = current.buckets();
  const b = baseline.buckets();
  let i = 0;
  let j = 0;
  let below = 0; // baseline values in lower buckets
  let u = 0;
  let ties = 0;
  while (i < a.length || j < b.length) {
    // Bucket bounds come from the same mapping: equal keys give equal bounds.
    const ua = i < a.length ? a[i]!.upper : Infinity;
    const ub = j < b.length ? b[j]!.upper : Infinity;
    const ca = ua <= ub ? a[i++]!.count : 0;
    const cb = ub <= ua ? b[j++]!.count : 0;
    u += ca * (below + cb / 2);
    below += cb;
    const t = ca + cb;
    ties += t * t * t - t;
  }
  const n = n1 + n2;
  const variance = (n1 * n2 / 12) * ((n + 1) - ties / (n * (n - 1)));
  if (!(variance > 0)) return 0;
  return (u - n1 * n2 / 2) / Math.sqrt(variance);
}

/**
 * Pairs the nodes of `baseline` and `current` (by flow, kind, name and tag)
 * and says how each one's durations changed; in `current`'s order, then the
 * nodes gone since.
 */
export function compareNodeStats(
  baseline: readonly NodeStatsEntry[],
  current: readonly NodeStatsEntry[],
): NodeChange[] {
  const key = (r: NodeStatsRow) =>
    JSON.stringify([r.flow_id, r.kind, r.name, r.step_type ?? r.category]);
  const before = new Map(baseline.map((e) => [key(e.row), e]));
  const out: NodeChange[] = [];
  for (const now of current) {
    const k = key(now.row);
    const then = before.get(k);
    before.delete(k);
    out.push(change(then ?? null, now));
  }
  for (const then of before.values()) out.push(change(then, null));
  return out;
}

function change(then: NodeStatsEntry | null, now: NodeStatsEntry | null): NodeChange {
  const row = (now ?? then)!.row;
  const base: NodeChange = {
    flow_id: row.flow_id,
    kind: row.kind,
    name: row.name,
    tag: row.step_type ?? row.category,
    baseline: then?.row ?? null,
    current: now?.row ?? null,
    p50_change: null,
    p99_change: null,
    z: null,
    verdict: then === null ? "new" : "gone",
  };
  if (then === null || now === null) return base;
  const timed = then.durations.count > 0 && now.durations.count > 0;
  if (!timed) return { ...base, verdict: "few" };
  const p50 = percent(then.row.p50!, now.row.p50!);
  const p99 = percent(then.row.p99!, now.row.p99!);
  const z = mannWhitneyZ(then.durations, now.durations);
  let verdict: NodeChange["verdict"] = "same";
  if (then.durations.count < CHANGE_MIN_COUNT || now.durations.count < CHANGE_MIN_COUNT) {
    verdict = "few";
  } else if (z >= CHANGE_Z && Math.max(p50 ?? Infinity, p99 ?? Infinity) >= CHANGE_MIN_PERCENT) {
    verdict = "slower";
  } else if (z <= -CHANGE_Z && Math.min(p50 ?? 0, p99 ?? 0) <= -CHANGE_MIN_PERCENT) {
    verdict = "faster";
  }
  return { ...base, p50_change: p50, p99_change: p99, z, verdict };
}

/** The change in percent; null from 0 to more (no finite percent says it). */
function percent(before: number, after: number): number | null {
  if (before === 0) return after === 0 ? 0 : null;
  return (after / before - 1) * 100;
}
