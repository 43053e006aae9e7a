/**
 * `measureOverhead()` in Deno: every figure with its spread, the runtime and
 * the CPU, its temporary store removed however the run ends, a bad budget
 * refused. No figure's value is asserted, only their order where it holds by
 * construction (a disabled call does a fraction of an enabled one's work).
 */
import assert from "node:assert/strict";
import { measureOverhead, type OverheadProgress } from "../../mod.ts";
import { assertOverheadReport } from "../support/overhead_report.ts";
import { withTempDir } from "../support/temp_dir.ts";

/** Runs `fn` with TMPDIR pointing to a fresh directory, where the temporary store must go. */
async function withTmpdir<T>(fn: (tmp: string) => Promise<T>): Promise<T> {
  return await withTempDir(async (tmp) => {
    const before = Deno.env.get("TMPDIR");
    Deno.env.set("TMPDIR", tmp);
    try {
      return await fn(tmp);
    } finally {
      if (before === undefined) Deno.env.delete("TMPDIR");
      else Deno.env.set("TMPDIR", before);
    }
  });
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names;
}

Deno.test("measureOverhead() reports every figure with its spread, the runtime and the CPU", async () => {
  await withTmpdir(async (tmp) => {
    const progress: OverheadProgress[] = [];
    const report = await measureOverhead({ seconds: 0.3, onProgress: (p) => progress.push(p) });
    const r = assertOverheadReport(report, "deno");
    assert.equal(r.seconds, 0.3);
    assert.deepEqual(report.runtime, {
      name: "deno",
      version: Deno.version.deno,
      engine: `V8 ${Deno.version.v8}`,
      os: Deno.build.target,
      user_agent: navigator.userAgent,
    });
    assert.equal(report.cpu.logical_cpus, navigator.hardwareConcurrency);
    assert.equal(report.transport, "sab");
    assert.deepEqual(progress.map((p) => [p.figure, p.index, p.count]), [
      ["info_bound", 1, 7],
      ["info_inline", 2, 7],
      ["disabled", 3, 7],
      ["observable_sync", 4, 7],
      ["observable_async", 5, 7],
      ["with_context", 6, 7],
      ["end_to_end", 7, 7],
    ]);
    // The store was a directory under TMPDIR, and is gone.
    assert.ok(report.figures.end_to_end.store.startsWith(tmp + "/"));
    assert.deepEqual(await entries(tmp), []);
  });
});

Deno.test("measureOverhead() finds a disabled level cheaper than an info call", async () => {
  const { figures } = await measureOverhead({ seconds: 0.3 });
  assert.ok(
    figures.disabled.ns_per_call.median < figures.info_bound.ns_per_call.median,
    JSON.stringify([figures.disabled.ns_per_call, figures.info_bound.ns_per_call]),
  );
});

Deno.test("measureOverhead() removes its temporary store when a figure fails", async () => {
  await withTmpdir(async (tmp) => {
    let seen: string[] = [];
    await assert.rejects(
      measureOverhead({
        seconds: 0.3,
        onProgress: (p) => {
          if (p.figure !== "end_to_end") return;
          seen = [...Deno.readDirSync(tmp)].map((e) => e.name);
          throw new Error("stop here");
        },
      }),
      /stop here/,
    );
    assert.equal(seen.length, 1, "the store existed while measuring");
    assert.deepEqual(await entries(tmp), []);
  });
});

Deno.test("measureOverhead() refuses a budget outside 0.1 to 3600 seconds", async () => {
  for (const seconds of [0, 0.05, -1, NaN, Infinity, 3601, "3" as unknown as number]) {
    await assert.rejects(
      measureOverhead({ seconds }),
      (e: unknown) =>
        e instanceof RangeError && /seconds must be a number from 0\.1 to 3600/.test(e.message),
      String(seconds),
    );
  }
});
