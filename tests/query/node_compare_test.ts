import assert from "node:assert/strict";
import { DurationSketch } from "../../src/query/duration_sketch.ts";
import { compareNodeStats, mannWhitneyZ } from "../../src/query/node_compare.ts";
import { NodeStatsAccumulator } from "../../src/query/node_stats.ts";
import { makeEvent } from "../support/log_event.ts";
import { logNormal, seededRandom } from "../support/seeded_random.ts";

/** The textbook U statistic over values (ties counted half), with the tie-corrected z. */
function directZ(before: number[], after: number[]): number {
  let u = 0;
  for (const a of after) for (const b of before) u += a > b ? 1 : a === b ? 0.5 : 0;
  const n1 = after.length;
  const n2 = before.length;
  const n = n1 + n2;
  const groups = new Map<number, number>();
  for (const v of [...before, ...after]) groups.set(v, (groups.get(v) ?? 0) + 1);
  let ties = 0;
  for (const t of groups.values()) ties += t ** 3 - t;
  const variance = (n1 * n2 / 12) * ((n + 1) - ties / (n * (n - 1)));
  return (u - n1 * n2 / 2) / Math.sqrt(variance);
}

Deno.test("mannWhitneyZ() equals the textbook z over the values' buckets", () => {
  const next = seededRandom(5);
  // Whole powers of γ apart: each value alone in its bucket, or tied with its equals.
  const gamma = 1.01 / 0.99;
  const draw = (shift: number) =>
    Array.from({ length: 120 }, () => gamma ** (Math.floor(next() * 60) + shift) * 0.999);
  for (const shift of [0, 3, 20]) {
    const before = draw(0);
    const after = draw(shift);
    const a = new DurationSketch();
    const b = new DurationSketch();
    for (const v of before) b.add(v);
    for (const v of after) a.add(v);
    const want = directZ(before, after);
    assert.ok(Math.abs(mannWhitneyZ(b, a) - want) < 1e-9, `shift ${shift}: ${want}`);
    assert.ok(Math.abs(mannWhitneyZ(a, b) + want) < 1e-9);
  }
  assert.ok(Number.isNaN(mannWhitneyZ(new DurationSketch(), new DurationSketch())));
  const one = new DurationSketch();
  one.add(5);
  assert.equal(mannWhitneyZ(one, one), 0);
});

Deno.test("compareNodeStats() marks slower, faster, same, new, gone and too few", () => {
  const next = seededRandom(9);
  const stats = (factors: Record<string, number>, n: number) => {
    const acc = new NodeStatsAccumulator();
    for (const [node, factor] of Object.entries(factors)) {
      for (let i = 0; i < n; i++) {
        acc.offer([
          makeEvent(i, { node, duration_ms: logNormal(next, 3, 0.3) * factor }, {
            event: "node_exit",
          }),
        ]);
      }
    }
    return acc.entries();
  };
  const before = stats({ slow: 1, fast: 1, same: 1, gone: 1 }, 100);
  const after = stats({ slow: 1.5, fast: 0.5, same: 1, fresh: 1 }, 100);
  const verdicts = Object.fromEntries(
    compareNodeStats(before, after).map((c) => [c.name, c.verdict]),
  );
  assert.deepEqual(verdicts, {
    slow: "slower",
    fast: "faster",
    same: "same",
    fresh: "new",
    gone: "gone",
  });
  const few = compareNodeStats(stats({ slow: 1 }, 5), stats({ slow: 3 }, 5));
  assert.equal(few[0]!.verdict, "few");
  assert.ok(few[0]!.p50_change! > 100);
});

Deno.test("compareNodeStats() does not mark a shift smaller than 5% however many executions", () => {
  const make = (factor: number) => {
    const acc = new NodeStatsAccumulator();
    const events = [];
    for (let i = 0; i < 20_000; i++) {
      events.push(
        makeEvent(i, { node: "n", duration_ms: 100 * factor * (1 + (i % 100) / 100) }, {
          event: "node_exit",
        }),
      );
    }
    acc.offer(events);
    return acc.entries();
  };
  const [change] = compareNodeStats(make(1), make(1.03));
  assert.ok(change!.z! > 3.29, `z ${change!.z}`);
  assert.equal(change!.verdict, "same");
});
