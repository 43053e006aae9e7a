import assert from "node:assert/strict";
import {
  DurationSketch,
  SKETCH_MAX_BINS,
  SKETCH_RELATIVE_ACCURACY,
} from "../../src/query/duration_sketch.ts";
import { logNormal, seededRandom as random } from "../support/seeded_random.ts";

function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

const QUANTILES = [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

Deno.test("DurationSketch.quantile() is within 1% of the exact value at every rank asked", () => {
  const next = random(7);
  const samples: Record<string, number[]> = {
    uniform: Array.from({ length: 20_000 }, () => 1 + next() * 9_999),
    exponential: Array.from({ length: 20_000 }, () => -Math.log(1 - next()) * 40),
    lognormal: Array.from({ length: 20_000 }, () => logNormal(next, 3, 1.5)),
    tiny: Array.from({ length: 5_000 }, () => 0.0001 + next() * 0.01),
  };
  for (const [name, values] of Object.entries(samples)) {
    const sketch = new DurationSketch();
    for (const v of values) sketch.add(v);
    const sorted = values.slice().sort((a, b) => a - b);
    for (const q of QUANTILES) {
      const exact = exactQuantile(sorted, q);
      const got = sketch.quantile(q);
      assert.ok(
        Math.abs(got - exact) <= exact * SKETCH_RELATIVE_ACCURACY,
        `${name} q=${q}: ${got} vs exact ${exact}`,
      );
    }
    assert.equal(sketch.count, values.length);
    assert.equal(sketch.min, sorted[0]);
    assert.equal(sketch.max, sorted.at(-1));
  }
});

Deno.test("DurationSketch.merge() gives the sketch of all the values, in any order", () => {
  const next = random(11);
  const values = Array.from({ length: 3_000 }, () => next() * 500);
  const whole = new DurationSketch();
  for (const v of values) whole.add(v);
  const parts = [new DurationSketch(), new DurationSketch(), new DurationSketch()];
  values.forEach((v, i) => parts[i % 3]!.add(v));
  const forward = new DurationSketch();
  for (const p of parts) forward.merge(p);
  const backward = new DurationSketch();
  for (const p of parts.slice().reverse()) backward.merge(p);
  for (const merged of [forward, backward]) {
    const { sum: _a, ...data } = merged.toData();
    const { sum: _b, ...expected } = whole.toData();
    assert.deepEqual(data, expected);
    assert.ok(Math.abs(merged.sum - whole.sum) < 1e-6);
  }
  forward.merge(new DurationSketch());
  assert.equal(forward.count, 3_000);
});

Deno.test("DurationSketch holds at most SKETCH_MAX_BINS buckets whatever the values", () => {
  const sketch = new DurationSketch();
  // 1 ns to 10^12 ms: wider than 2,048 buckets of 2% can span.
  for (let e = -6; e <= 12; e += 0.001) sketch.add(10 ** e);
  assert.equal(sketch.size, SKETCH_MAX_BINS);
  // The top of the range stays exact to 1%; the merged low end reads high, never above max.
  const top = sketch.quantile(0.99);
  assert.ok(Math.abs(top - 10 ** 11.82) <= 10 ** 11.82 * 0.011, String(top));
  assert.ok(sketch.quantile(0) <= sketch.max);
  // And a million values of a usual range hold a few hundred.
  const usual = new DurationSketch();
  const next = random(3);
  for (let i = 0; i < 1_000_000; i++) usual.add(0.1 + next() * 60_000);
  assert.ok(usual.size <= 1_000, String(usual.size));
});

Deno.test("DurationSketch counts values below 1 ns as zero and keeps min and max exact", () => {
  const sketch = new DurationSketch();
  for (const v of [0, 0, 0, 5]) sketch.add(v);
  assert.equal(sketch.quantile(0.5), 0);
  assert.equal(sketch.quantile(1), 5);
  assert.deepEqual(sketch.buckets()[0], { lower: 0, upper: 1e-6, count: 3 });
  assert.equal(sketch.buckets().reduce((n, b) => n + b.count, 0), 4);
  const empty = new DurationSketch();
  assert.ok(Number.isNaN(empty.quantile(0.5)));
  assert.ok(Number.isNaN(empty.min) && Number.isNaN(empty.max));
});

Deno.test("DurationSketch refuses a bad duration, quantile or rank with what is accepted", () => {
  const sketch = new DurationSketch();
  for (const bad of [-1, NaN, Infinity]) {
    assert.throws(() => sketch.add(bad), RangeError);
  }
  assert.equal(sketch.count, 0);
  sketch.add(1);
  assert.throws(() => sketch.quantile(1.5), /Quantile must be from 0 to 1, got 1.5/);
  assert.throws(() => sketch.valueAtRank(1), /Rank must be from 0 to 0, got 1/);
});

Deno.test("DurationSketch.fromData() round-trips toData() through JSON and refuses other data", () => {
  const sketch = new DurationSketch();
  for (let ms = 1; ms <= 100; ms++) sketch.add(ms);
  const copy = DurationSketch.fromData(JSON.parse(JSON.stringify(sketch.toData())));
  assert.deepEqual(copy.toData(), sketch.toData());
  assert.equal(copy.quantile(0.9), sketch.quantile(0.9));
  const data = sketch.toData();
  for (
    const bad of [
      null,
      { ...data, count: data.count + 1 },
      { ...data, bins: [-1] },
      { ...data, bins: new Array(SKETCH_MAX_BINS + 1).fill(0) },
    ]
  ) {
    assert.throws(
      () => DurationSketch.fromData(bad as never),
      /Not duration sketch data: pass what DurationSketch.toData\(\) returned/,
    );
  }
});
