/**
 * The shape of `measureOverhead()`'s report, field by field, as the Deno,
 * CLI (`flightlog bench --json`) and Chromium tests all check it.
 *
 * @module
 */
import assert from "node:assert/strict";

const SPREAD_KEYS = ["max", "median", "min", "p25", "p75", "samples"];

function assertSpread(s: unknown, where: string): void {
  const x = s as Record<string, number>;
  assert.deepEqual(Object.keys(x).sort(), SPREAD_KEYS, where);
  for (const k of SPREAD_KEYS) assert.ok(Number.isFinite(x[k]), `${where}.${k} is ${x[k]}`);
  assert.ok(x.samples! >= 3, `${where}.samples is ${x.samples}`);
  assert.ok(
    x.min! <= x.p25! && x.p25! <= x.median! && x.median! <= x.p75! && x.p75! <= x.max!,
    `${where} is not in order: ${JSON.stringify(x)}`,
  );
}

function assertCallFigure(f: unknown, where: string): void {
  const x = f as Record<string, unknown>;
  assert.deepEqual(Object.keys(x).sort(), ["calls_per_batch", "label", "ns_per_call"], where);
  assert.equal(typeof x.label, "string");
  assert.ok(Number.isSafeInteger(x.calls_per_batch) && (x.calls_per_batch as number) > 0, where);
  assertSpread(x.ns_per_call, `${where}.ns_per_call`);
  assert.ok((x.ns_per_call as { min: number }).min > 0, `${where}: a call takes time`);
}

function assertNodeFigure(f: unknown, where: string): void {
  const x = f as Record<string, unknown>;
  assert.deepEqual(
    Object.keys(x).sort(),
    ["bare_ns", "calls_per_batch", "label", "node_ns", "overhead_ns"],
    where,
  );
  assert.equal(typeof x.label, "string");
  assert.ok(Number.isSafeInteger(x.calls_per_batch) && (x.calls_per_batch as number) > 0, where);
  for (const k of ["node_ns", "bare_ns", "overhead_ns"]) assertSpread(x[k], `${where}.${k}`);
  // The overhead is node minus bare, round by round: their medians bound its median.
  const node = x.node_ns as { median: number; max: number };
  const bare = x.bare_ns as { min: number };
  const overhead = x.overhead_ns as { max: number };
  assert.ok(overhead.max <= node.max - bare.min + 1e-6, `${where}: overhead above node − bare`);
}

/**
 * Asserts that `report` has exactly the documented fields (docs/cli.md
 * "bench"), each of its type, and returns it typed loosely for more checks.
 */
export function assertOverheadReport(
  report: unknown,
  runtime: "deno" | "browser",
): Record<string, unknown> {
  const r = report as Record<string, unknown>;
  assert.deepEqual(Object.keys(r).sort(), [
    "cpu",
    "date",
    "elapsed_s",
    "figures",
    "runtime",
    "seconds",
    "transport",
    "workload",
  ]);
  assert.ok(!Number.isNaN(Date.parse(r.date as string)), `date ${r.date}`);
  assert.equal(typeof r.seconds, "number");
  assert.ok((r.elapsed_s as number) > 0);
  assert.equal(r.workload, "7 bound ids + 2 call fields");
  assert.ok(["sab", "message", "inline"].includes(r.transport as string), `${r.transport}`);

  const rt = r.runtime as Record<string, unknown>;
  assert.deepEqual(Object.keys(rt).sort(), ["engine", "name", "os", "user_agent", "version"]);
  assert.equal(rt.name, runtime);
  for (const k of ["engine", "os", "user_agent", "version"]) {
    assert.ok(rt[k] === null || typeof rt[k] === "string", `runtime.${k} is ${rt[k]}`);
  }
  const cpu = r.cpu as Record<string, unknown>;
  assert.deepEqual(Object.keys(cpu).sort(), ["logical_cpus", "model"]);
  assert.ok(cpu.logical_cpus === null || Number.isSafeInteger(cpu.logical_cpus));
  assert.ok(typeof cpu.model === "string" && cpu.model !== "", `cpu.model is ${cpu.model}`);

  const f = r.figures as Record<string, unknown>;
  assert.deepEqual(Object.keys(f), [
    "info_bound",
    "info_inline",
    "disabled",
    "observable_sync",
    "observable_async",
    "with_context",
    "end_to_end",
  ]);
  for (const k of ["info_bound", "info_inline", "disabled", "with_context"]) {
    assertCallFigure(f[k], `figures.${k}`);
  }
  for (const k of ["observable_sync", "observable_async"]) assertNodeFigure(f[k], `figures.${k}`);

  const e = f.end_to_end as Record<string, unknown>;
  assert.deepEqual(Object.keys(e).sort(), [
    "dropped",
    "emitted",
    "events_per_round",
    "events_per_s",
    "label",
    "persisted",
    "store",
  ]);
  assert.equal(typeof e.label, "string");
  assert.ok(typeof e.store === "string" && e.store !== "");
  assertSpread(e.events_per_s, "figures.end_to_end.events_per_s");
  const rounds = (e.events_per_s as { samples: number }).samples;
  assert.equal(e.emitted, rounds * (e.events_per_round as number));
  assert.equal((e.persisted as number) + (e.dropped as number), e.emitted);
  assert.ok((e.persisted as number) > 0);
  return r;
}
