/**
 * {@linkcode DurationSketch}: a mergeable quantile sketch of durations with a
 * relative-error guarantee, the DDSketch of Masson, Rim and Lee ("DDSketch: a
 * fast and fully-mergeable quantile sketch with relative-error guarantees",
 * VLDB 2019) with its logarithmic mapping and a dense store of counts.
 *
 * Written here rather than taken from `@datadog/sketches-js` 2.1.1: that
 * package's compiled protobuf module requires `protobufjs/minimal`, which it
 * does not declare, so esbuild cannot bundle it for the browser build; its
 * sketches are class instances that do not survive the worker's structured
 * clone, and its only serialization needs that same protobuf module.
 *
 * The guarantee: with relative accuracy α = {@linkcode SKETCH_RELATIVE_ACCURACY}
 * (1%), a value `x` is counted in bucket `k = ⌈log_γ x⌉`, γ = (1 + α)/(1 − α),
 * which holds the values in (γ^(k−1), γ^k], and is read back as
 * 2γ^k/(γ + 1): within α of every value of the bucket. So the value at any
 * rank is within 1% of the exact value at that rank. Values below
 * {@linkcode SKETCH_MIN_MS} (1 ns) count as zero. Memory is at most
 * {@linkcode SKETCH_MAX_BINS} counts, whatever the number of values: 2,048
 * buckets of 2% span a ratio of 10^17 between the smallest and the largest
 * value; past it the lowest buckets merge into one (their values then read
 * high), which no duration range in practice reaches.
 *
 * @module
 */

/** Relative error of a value read from a {@linkcode DurationSketch}: 1%. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

/** Durations (ms) below this count as zero: 1 ns, finer than any clock here. */
export const SKETCH_MIN_MS = 1e-6;

/** Most buckets a sketch holds. */
export const SKETCH_MAX_BINS = 2048;

const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);

/**
 * A sketch as plain data: structured-cloneable and JSON-safe, to cross a
 * worker boundary or be saved. `bins[i]` counts the values of bucket
 * `offset + i`.
 */
export interface DurationSketchData {
  /** Values below {@linkcode SKETCH_MIN_MS}. */
  zero: number;
  /** Bucket index of `bins[0]`. */
  offset: number;
  /** Counts per bucket, from `offset` up. */
  bins: number[];
  /** Values added. */
  count: number;
  /** Their sum. */
  sum: number;
  /** The smallest (0 when empty). */
  min: number;
  /** The largest (0 when empty). */
  max: number;
}

/** One bucket of a sketch: the values in (`lower`, `upper`], and how many. */
export interface SketchBucket {
  /** Exclusive lower bound, ms (0 for the zero bucket, inclusive). */
  lower: number;
  /** Inclusive upper bound, ms. */
  upper: number;
  /** Values counted in it. */
  count: number;
}

/**
 * A quantile sketch of durations in ms. `count`, `sum`, `min` and `max` are
 * exact; the value at a rank or quantile is within
 * {@linkcode SKETCH_RELATIVE_ACCURACY} of the exact one. Merging two sketches
 * gives the sketch of all their values, in any order.
 *
 * @example Percentiles of 1 to 1,000 ms
 * ```ts
 * import { DurationSketch } from "./duration_sketch.ts";
 * import assert from "node:assert/strict";
 * const a = new DurationSketch();
 * const b = new DurationSketch();
 * for (let ms = 1; ms <= 1000; ms++) (ms % 2 === 0 ? a : b).add(ms);
 * a.merge(b);
 * assert.equal(a.count, 1000);
 * assert.equal(a.max, 1000);
 * // The exact p99 of 1..1000 is the value at rank ⌊0.99 × 999⌋ = 989 (0-based): 990.
 * assert.ok(Math.abs(a.quantile(0.99) - 990) <= 990 * 0.01);
 * ```
 */
export class DurationSketch {
  #zero = 0;
  #offset = 0;
  #bins: number[] = [];
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Values added. */
  get count(): number {
    return this.#count;
  }

  /** Sum of the values added (exact, up to float addition). */
  get sum(): number {
    return this.#sum;
  }

  /** The smallest value added, or NaN when empty. */
  get min(): number {
    return this.#count === 0 ? NaN : this.#min;
  }

  /** The largest value added, or NaN when empty. */
  get max(): number {
    return this.#count === 0 ? NaN : this.#max;
  }

  /** Buckets held: at most {@linkcode SKETCH_MAX_BINS}, whatever `count` is. */
  get size(): number {
    return this.#bins.length;
  }

  /** Adds a duration in ms. Throws a `RangeError` unless it is a finite number ≥ 0. */
  add(ms: number): void {
    if (!(ms >= 0 && ms < Infinity)) {
      throw new RangeError(`A duration must be a finite number of ms ≥ 0, got ${ms}`);
    }
    this.#count++;
    this.#sum += ms;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
    if (ms < SKETCH_MIN_MS) {
      this.#zero++;
      return;
    }
    const key = Math.ceil(Math.log(ms) / LN_GAMMA);
    const at = key - this.#offset;
    if (at >= 0 && at < this.#bins.length) this.#bins[at]!++;
    else this.#addAt(key, 1);
  }

  /** Adds every value of `other` to this sketch. */
  merge(other: DurationSketch): void {
    if (other.#count === 0) return;
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#zero += other.#zero;
    if (other.#min < this.#min) this.#min = other.#min;
    if (other.#max > this.#max) this.#max = other.#max;
    const bins = other.#bins;
    for (let i = 0; i < bins.length; i++) {
      const n = bins[i]!;
      if (n > 0) this.#addAt(other.#offset + i, n);
    }
  }

  /**
   * The value at 0-based `rank` among the values in ascending order, within
   * 1% (clamped to [min, max]); NaN when empty. Throws a `RangeError` for a
   * rank outside [0, count).
   */
  valueAtRank(rank: number): number {
    if (this.#count === 0) return NaN;
    if (!(rank >= 0 && rank < this.#count)) {
      throw new RangeError(`Rank must be from 0 to ${this.#count - 1}, got ${rank}`);
    }
    let seen = this.#zero;
    if (rank < seen) return this.#min;
    const bins = this.#bins;
    let i = 0;
    for (; i < bins.length - 1; i++) {
      seen += bins[i]!;
      if (rank < seen) break;
    }
    const value = 2 * Math.exp((this.#offset + i) * LN_GAMMA) / (GAMMA + 1);
    return Math.min(this.#max, Math.max(this.#min, value));
  }

  /**
   * The `q`-quantile (0 ≤ q ≤ 1): the value at rank ⌊q·(count − 1)⌋, within
   * 1%; NaN when empty. Throws a `RangeError` for `q` outside [0, 1].
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`Quantile must be from 0 to 1, got ${q}`);
    if (this.#count === 0) return NaN;
    return this.valueAtRank(Math.floor(q * (this.#count - 1)));
  }

  /** The non-empty buckets, ascending: a histogram of the durations. */
  buckets(): SketchBucket[] {
    const out: SketchBucket[] = [];
    if (this.#zero > 0) out.push({ lower: 0, upper: SKETCH_MIN_MS, count: this.#zero });
    for (let i = 0; i < this.#bins.length; i++) {
      const n = this.#bins[i]!;
      if (n === 0) continue;
      const key = this.#offset + i;
      out.push({
        lower: Math.exp((key - 1) * LN_GAMMA),
        upper: Math.exp(key * LN_GAMMA),
        count: n,
      });
    }
    return out;
  }

  /** The sketch as plain data (see {@linkcode DurationSketch.fromData}). */
  toData(): DurationSketchData {
    const empty = this.#count === 0;
    return {
      zero: this.#zero,
      offset: this.#offset,
      bins: this.#bins.slice(),
      count: this.#count,
      sum: this.#sum,
      min: empty ? 0 : this.#min,
      max: empty ? 0 : this.#max,
    };
  }

  /**
   * A sketch from {@linkcode DurationSketch.toData}'s data. Throws a
   * `TypeError` when it is not such data.
   */
  static fromData(data: DurationSketchData): DurationSketch {
    const ok = typeof data === "object" && data !== null && isCount(data.zero) &&
      Number.isSafeInteger(data.offset) && Array.isArray(data.bins) &&
      data.bins.length <= SKETCH_MAX_BINS && data.bins.every(isCount) && isCount(data.count) &&
      data.count === data.zero + data.bins.reduce((a, b) => a + b, 0) &&
      Number.isFinite(data.sum) && Number.isFinite(data.min) && Number.isFinite(data.max);
    if (!ok) {
      throw new TypeError(
        "Not duration sketch data: pass what DurationSketch.toData() returned, unchanged",
      );
    }
    const sketch = new DurationSketch();
    sketch.#zero = data.zero;
    sketch.#offset = data.offset;
    sketch.#bins = data.bins.slice();
    sketch.#count = data.count;
    sketch.#sum = data.sum;
    if (data.count > 0) {
      sketch.#min = data.min;
      sketch.#max = data.max;
    }
    return sketch;
  }

  /** Adds `n` to bucket `key`, growing the dense range (and merging its low end past the limit). */
  #addAt(key: number, n: number): void {
    const bins = this.#bins;
    if (bins.length === 0) {
      this.#offset = key;
      bins.push(n);
      return;
    }
    const top = this.#offset + bins.length - 1;
    if (key < this.#offset) {
      // Below the lowest bucket kept once the range is full: counted in it.
      const lowest = Math.max(key, top - SKETCH_MAX_BINS + 1);
      if (lowest < this.#offset) {
        bins.unshift(...new Array<number>(this.#offset - lowest).fill(0));
        this.#offset = lowest;
      }
      bins[Math.max(0, key - this.#offset)]! += n;
      return;
    }
    if (key > top) {
      for (let k = top; k < key; k++) bins.push(0);
      const excess = bins.length - SKETCH_MAX_BINS;
      if (excess > 0) {
        let merged = 0;
        for (let i = 0; i <= excess; i++) merged += bins[i]!;
        bins.splice(0, excess);
        bins[0] = merged;
        this.#offset += excess;
      }
    }
    bins[key - this.#offset]! += n;
  }
}

function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}
