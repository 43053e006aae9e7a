/**
 * The overhead gate (`deno task gate`): measures, in one process, what
 * flightlog costs its callers and how fast the store persists, prints a table,
 * and exits with status 1 when a budget is exceeded.
 *
 * | figure                                  | budget (fails the gate)             | goal     |
 * | --------------------------------------- | ----------------------------------- | -------- |
 * | info call, 7 bound ids + 2 fields       | median ≤ 1,000 ns                   | ≤ 100 ns |
 * | info call, 7 fields inline, no child    | median ≤ 1,000 ns                   | ≤ 150 ns |
 * | disabled level (debug below info)       | median ≤ 5 × empty call + 3 ns      | ≤ 5 ns   |
 * | end to end, segment files in a temp dir | emitted = persisted + dropped, > 0  | ≥ 2 M/s  |
 * | burst of 10,000 inline calls, defaults  | 0 dropped, every round              | 0        |
 * | burst of 100,000 inline calls, defaults | ≤ a third dropped, every round      | ≤ 1/3    |
 * | idle system: log call → persisted       | median ≤ 50 ms, no flush()          | ≤ 50 ms  |
 * | sustained overload (drop policy)        | RSS growth after 1/3 of it ≤ 64 MiB | bounded  |
 *
 * Every figure is a median over many batches timed in this process, and the
 * disabled level is judged against an empty call measured in the same batches
 * (interleaved), never against a fixed number of nanoseconds alone: the
 * machines are shared and noisy. The info call is judged on 300 batches after
 * 500 warm-up batches (steady state, what a long-running flow pays); the
 * batches right after start-up are printed next to it. A burst is a fresh
 * logger with default options (its worker up), then the calls in one task,
 * without an `await`: its drops are counted right after the last call. It is
 * a task, not a test: nothing here runs under `deno test`.
 *
 * @module
 */
import type { Logger } from "../mod.ts";
import {
  CALLER_RING,
  callFields,
  emitTimed,
  EVENT,
  filesIn,
  fmt,
  fmtInt,
  header,
  infoLoop,
  inlineLoop,
  interleave,
  median,
  openFlow,
  quartiles,
  STEP_INLINE,
  storeTotals,
  table,
  withFlow,
  withTempDir,
} from "./_workload.ts";

/** Budgets; the gate fails when one is exceeded. */
const BUDGET = {
  infoNs: 1000,
  inlineNs: 1000,
  disabledFactor: 5,
  // The level getter that lets a run-time level reach children costs about
  // 1.7 ns over an empty call (2026-12-05): 3 ns leaves room for noise and
  // still fails a level method that does any work when disabled.
  disabledEpsilonNs: 3,
  idleMs: 50,
  overloadGrowthBytes: 64 << 20,
  /** Fractions of a burst's calls dropped, by burst size. */
  burstDropped: { 10_000: 0, 100_000: 1 / 3 } as Record<number, number>,
} as const;
/** Goals: reported ("met" / "not met"), never failing. */
const GOAL = {
  infoNs: 100,
  inlineNs: 150,
  disabledNs: 5,
  e2eEventsPerS: 2_000_000,
} as const;

const INFO_BATCH = 1000;
// The judged batches start after half a million calls: until then V8 is still
// compiling (on the second of two cores, the worker's), and the medians of
// batches 50–350 measured 7–20% above those of batches 350–1,000 in the same
// runs (2026-11-23). The early batches are reported too.
const INFO_EARLY = 50;
const INFO_WARMUP = 500;
const INFO_BATCHES = 300;
const CALL_BATCH = 100_000;
const CALL_WARMUP = 20;
const CALL_BATCHES = 200;
const E2E_EVENTS = 200_000;
const E2E_ROUNDS = 3;
const BURSTS = [10_000, 100_000] as const;
const BURST_ROUNDS = 3;
const IDLE_SAMPLES = 30;
const OVERLOAD_MS = 3000;

interface Check {
  name: string;
  value: string;
  limit: string;
  ok: boolean;
}
const checks: Check[] = [];
function check(name: string, value: string, limit: string, ok: boolean): void {
  checks.push({ name, value, limit, ok });
}

// Two copies of the same loop, so each call site only ever sees one target.
const FIELDS = { duration_ms: 12.5, status: "ok" };
function disabledLoop(flow: Logger, n: number): void {
  for (let i = 0; i < n; i++) flow.debug(EVENT, FIELDS);
}
const emptyTarget = { debug: (_event: string, _fields?: Record<string, unknown>): void => {} };
function emptyLoop(target: typeof emptyTarget, n: number): void {
  for (let i = 0; i < n; i++) target.debug(EVENT, FIELDS);
}

// --- Caller cost -------------------------------------------------------------

function measureCallerCost(): Promise<{
  info: number[];
  early: number[];
  disabled: number[];
  empty: number[];
  dropped: number;
  mode: string;
}> {
  return withFlow({ ringBytes: CALLER_RING }, async ({ log, flow }) => {
    const [all] = await interleave(
      [{ loop: (n) => infoLoop(flow, n), settle: () => log.flush() }],
      { batch: INFO_BATCH, warmup: 0, batches: INFO_WARMUP + INFO_BATCHES },
    );
    const dropped = log.stats().dropped;
    // Interleaved: drift in the machine's speed hits both.
    const [disabled, empty] = await interleave([
      { loop: (n) => disabledLoop(flow, n) },
      { loop: (n) => emptyLoop(emptyTarget, n) },
    ], { batch: CALL_BATCH, warmup: CALL_WARMUP, batches: CALL_BATCHES });
    return {
      info: all!.slice(INFO_WARMUP),
      early: all!.slice(INFO_EARLY, INFO_EARLY + INFO_BATCHES),
      disabled: disabled!,
      empty: empty!,
      dropped,
      mode: log.stats().mode,
    };
  });
}

/**
 * The inline workload's caller cost, after the bound one's (so that the bound
 * figure is measured as it always was): the same plan, its own logger.
 */
function measureInlineCost(): Promise<{ info: number[]; dropped: number }> {
  return withTempDir(async (dir) => {
    const log = openFlow({ dir, ringBytes: CALLER_RING }, STEP_INLINE).log;
    try {
      let from = 0;
      const [all] = await interleave([{
        loop: (n) => {
          inlineLoop(log, n, from);
          from += n;
        },
        settle: () => log.flush(),
      }], { batch: INFO_BATCH, warmup: 0, batches: INFO_WARMUP + INFO_BATCHES });
      return { info: all!.slice(INFO_WARMUP), dropped: log.stats().dropped };
    } finally {
      await log.close();
    }
  });
}

// --- Bursts ----------------------------------------------------------------------

interface BurstRound {
  dropped: number;
  persisted: number;
  callsMs: number;
  flushMs: number;
}

/** `n` inline calls in one task into a fresh logger with default options, its worker up. */
function burst(n: number): Promise<BurstRound> {
  return withTempDir(async (dir) => {
    const log = openFlow({ dir }, STEP_INLINE).log;
    try {
      await log.flush();
      const t0 = performance.now();
      inlineLoop(log, n);
      const t1 = performance.now();
      const dropped = log.stats().dropped;
      await log.flush();
      return {
        dropped,
        persisted: log.stats().persisted,
        callsMs: t1 - t0,
        flushMs: performance.now() - t1,
      };
    } finally {
      await log.close();
    }
  });
}

// --- End to end ----------------------------------------------------------------

interface E2eRound {
  emitted: number;
  persisted: number;
  dropped: number;
  pending: number;
  ms: number;
  internal: number;
  files: number;
  bytes: number;
  /** Events a reader of its own finds in the segment files after close(). */
  onDisk: number;
  error: string | null;
}

function endToEnd(overflow: "drop" | "block"): Promise<E2eRound> {
  return withTempDir(async (dir) => {
    const { ms, stats: s } = await emitTimed({ dir, overflow }, E2E_EVENTS);
    const { files, bytes } = await filesIn(dir, /^seg-[0-9a-f]{16}\.flog$/);
    return {
      emitted: s.emitted,
      persisted: s.persisted,
      dropped: s.dropped,
      pending: s.pending,
      internal: s.internal,
      ms,
      files,
      bytes,
      onDisk: storeTotals(dir).events,
      error: s.error,
    };
  });
}

// --- Idle latency and sustained overload -------------------------------------------

/** Waits for a timer turn; the idle measurement must not keep the thread busy. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Time from a lone log call on an idle logger to the worker counting it
 * persisted, without flush(): the end-of-task publication wakes the worker.
 */
function idleLatency(): Promise<number[]> {
  return withFlow({}, async ({ log, flow }) => {
    const ms: number[] = [];
    await log.flush();
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      await pause(20); // the worker goes back to sleep between samples
      const want = log.stats().persisted + 1;
      const t0 = performance.now();
      flow.info(EVENT, callFields(i));
      while (log.stats().persisted < want) {
        if (performance.now() - t0 > 5000) break;
        await pause(0);
      }
      ms.push(performance.now() - t0);
    }
    return ms;
  });
}

/**
 * Logs as fast as one thread can into a small ring for OVERLOAD_MS (most
 * calls dropped and counted) and samples the process's resident memory, worker
 * included: it must level off, not grow with the number of calls.
 */
function overloadMemory(): Promise<
  { calls: number; dropped: number; persisted: number; rss: number[] }
> {
  return withFlow({ ringBytes: 256 << 10 }, async ({ log, flow }) => {
    const rss: number[] = [];
    let calls = 0;
    const t0 = performance.now();
    let next = t0;
    while (performance.now() - t0 < OVERLOAD_MS) {
      infoLoop(flow, 10_000);
      calls += 10_000;
      if (performance.now() >= next) {
        rss.push(Deno.memoryUsage().rss);
        next += OVERLOAD_MS / 10;
      }
      await pause(0); // let the worker's replies and timers run, as a real app does
    }
    await log.flush();
    rss.push(Deno.memoryUsage().rss);
    const s = log.stats();
    return { calls, dropped: s.dropped, persisted: s.persisted, rss };
  });
}

// --- Report ----------------------------------------------------------------------

function row(label: string, xs: number[], unit: string): string[] {
  return [label, ...quartiles(xs, 2), String(xs.length), unit];
}

async function main(): Promise<number> {
  console.log(header("flightlog overhead gate"));

  const c = await measureCallerCost();
  const inline = await measureInlineCost();
  const inlineMed = median([...inline.info]);
  const infoMed = median([...c.info]);
  const disMed = median([...c.disabled]);
  const emptyMed = median([...c.empty]);
  console.log(
    table([
      ["caller cost (per call)", "median", "p25", "p75", "batches", "unit"],
      row(
        `info, 7 bound ids + 2 fields (${c.mode}, ×${INFO_BATCH}/batch, after ${INFO_WARMUP})`,
        c.info,
        "ns",
      ),
      row(
        `  the same, batches ${INFO_EARLY}–${INFO_EARLY + INFO_BATCHES} (JIT still compiling)`,
        c.early,
        "ns",
      ),
      row(
        `info, 7 fields inline, no child (×${INFO_BATCH}/batch, after ${INFO_WARMUP})`,
        inline.info,
        "ns",
      ),
      row(`disabled level: debug below info (×${CALL_BATCH}/batch)`, c.disabled, "ns"),
      row(`empty function call (×${CALL_BATCH}/batch)`, c.empty, "ns"),
    ], ["l", "r", "r", "r", "r", "l"]),
  );
  console.log(
    `\ndropped during the info batches: ${c.dropped} bound, ${inline.dropped} inline ` +
      "(the ring is emptied between batches)",
  );

  const disabledLimit = BUDGET.disabledFactor * emptyMed + BUDGET.disabledEpsilonNs;
  check(
    "info call median",
    `${fmt(infoMed)} ns`,
    `≤ ${BUDGET.infoNs} ns`,
    infoMed <= BUDGET.infoNs,
  );
  check(
    "info call had no drops",
    String(c.dropped),
    "0",
    c.dropped === 0,
  );
  check(
    "inline call median",
    `${fmt(inlineMed)} ns`,
    `≤ ${BUDGET.inlineNs} ns`,
    inlineMed <= BUDGET.inlineNs,
  );
  check("inline call had no drops", String(inline.dropped), "0", inline.dropped === 0);
  check(
    "disabled level median",
    `${fmt(disMed, 2)} ns`,
    `≤ ${BUDGET.disabledFactor} × ${fmt(emptyMed, 2)} + ${BUDGET.disabledEpsilonNs} = ${
      fmt(disabledLimit, 2)
    } ns`,
    disMed <= disabledLimit,
  );

  const e2e: Record<"drop" | "block", E2eRound[]> = { drop: [], block: [] };
  let blockRate = NaN;
  for (let r = 0; r < E2E_ROUNDS; r++) {
    for (const policy of r % 2 === 0 ? ["drop", "block"] as const : ["block", "drop"] as const) {
      e2e[policy].push(await endToEnd(policy));
    }
  }
  const e2eRows: string[][] = [[
    "end to end (segment files)",
    "persisted/s",
    "persisted",
    "dropped",
    "ms",
    "files",
    "bytes/event",
  ]];
  for (const policy of ["drop", "block"] as const) {
    const rounds = e2e[policy];
    const rates = rounds.map((r) => (r.persisted * 1000) / r.ms);
    if (policy === "block") blockRate = median([...rates]);
    const mid = [...rounds].sort((a, b) => a.persisted / a.ms - b.persisted / b.ms)[
      rounds.length >> 1
    ]!;
    e2eRows.push([
      `${E2E_EVENTS} events, overflow "${policy}" (median of ${rounds.length})`,
      fmtInt(median(rates)),
      fmtInt(mid.persisted),
      fmtInt(mid.dropped),
      fmt(mid.ms),
      String(mid.files),
      fmt(mid.bytes / Math.max(1, mid.persisted), 1),
    ]);
    const list = (f: (r: E2eRound) => string): string => rounds.map(f).join("; ");
    check(
      `e2e "${policy}": emitted = persisted + dropped, nothing pending`,
      list((r) => `${r.emitted} = ${r.persisted} + ${r.dropped}`),
      `exact, ${E2E_EVENTS} emitted, every round`,
      rounds.every((r) =>
        r.emitted === E2E_EVENTS && r.emitted === r.persisted + r.dropped && r.pending === 0
      ),
    );
    check(
      `e2e "${policy}": events in the segment files = persisted + internal`,
      list((r) => `${r.onDisk} = ${r.persisted} + ${r.internal}`),
      "exact, > 0, no store error",
      rounds.every((r) =>
        r.persisted > 0 && r.files > 0 && r.onDisk === r.persisted + r.internal &&
        r.error === null
      ),
    );
    if (policy === "block") {
      check(
        `e2e "block": lossless`,
        list((r) => `${r.dropped} dropped`),
        "0 dropped",
        rounds.every((r) => r.dropped === 0),
      );
    }
  }
  console.log();
  console.log(table(e2eRows, ["l", "r", "r", "r", "r", "r", "r"]));

  const bursts = new Map<number, BurstRound[]>(BURSTS.map((n) => [n, []]));
  for (let r = 0; r < BURST_ROUNDS; r++) {
    for (const n of BURSTS) bursts.get(n)!.push(await burst(n));
  }
  const burstRows: string[][] = [[
    "burst, 7 inline fields, default options",
    "dropped (each round)",
    "dropped (median)",
    "calls ms (median)",
    "flush ms (median)",
  ]];
  for (const [n, rounds] of bursts) {
    const worst = Math.max(...rounds.map((x) => x.dropped));
    burstRows.push([
      `${fmtInt(n)} calls in one task, worker up`,
      rounds.map((x) => fmtInt(x.dropped)).join(", "),
      `${fmt((100 * median(rounds.map((x) => x.dropped))) / n, 1)} %`,
      fmt(median(rounds.map((x) => x.callsMs))),
      fmt(median(rounds.map((x) => x.flushMs))),
    ]);
    const limit = Math.floor(n * BUDGET.burstDropped[n]!);
    check(
      `burst of ${fmtInt(n)} inline calls: dropped, every round`,
      `${fmtInt(worst)} (worst of ${rounds.length})`,
      `≤ ${fmtInt(limit)}`,
      worst <= limit && rounds.every((x) => x.dropped + x.persisted === n),
    );
  }
  console.log();
  console.log(table(burstRows, ["l", "r", "r", "r", "r"]));

  const idle = await idleLatency();
  const idleMed = median([...idle]);
  console.log();
  console.log(table([
    ["idle system: log call → persisted, no flush()", "median", "p25", "p75", "samples", "unit"],
    row("one info call after 20 ms idle", idle, "ms"),
  ], ["l", "r", "r", "r", "r", "l"]));
  check(
    "idle: persisted without flush(), median latency",
    `${fmt(idleMed, 2)} ms (max ${fmt(Math.max(...idle), 2)} ms)`,
    `≤ ${BUDGET.idleMs} ms`,
    idleMed <= BUDGET.idleMs,
  );

  const ov = await overloadMemory();
  const mib = (b: number): string => fmt(b / (1 << 20), 1);
  // Growth over the last two thirds of the run. The first third is warm-up:
  // JIT, buffers and both heaps sizing themselves, in one-time steps of 20-40
  // MiB that came at varying times (2026-11-23: a 60 s run levelled off at
  // about +20 MiB over its first 5 s while 87 million events were persisted).
  const warm = ov.rss[Math.floor(ov.rss.length / 3)]!;
  const growth = Math.max(...ov.rss) - warm;
  console.log(
    `\nsustained overload, ${OVERLOAD_MS} ms, 256 KiB ring: ${fmtInt(ov.calls)} calls, ` +
      `${fmtInt(ov.persisted)} persisted, ${fmtInt(ov.dropped)} dropped; RSS MiB: ${
        ov.rss.map(mib).join(", ")
      }`,
  );
  check(
    "overload: memory stays bounded (RSS growth after the first third)",
    `${mib(growth)} MiB over ${fmtInt(ov.calls)} calls`,
    `≤ ${mib(BUDGET.overloadGrowthBytes)} MiB`,
    growth <= BUDGET.overloadGrowthBytes,
  );
  check(
    "overload: emitted = persisted + dropped",
    `${fmtInt(ov.calls)} = ${fmtInt(ov.persisted)} + ${fmtInt(ov.dropped)}`,
    "exact",
    ov.calls === ov.persisted + ov.dropped,
  );

  console.log();
  console.log(
    table(
      [
        ["check", "measured", "budget", "result"],
        ...checks.map((k) => [k.name, k.value, k.limit, k.ok ? "pass" : "FAIL"]),
      ],
    ),
  );
  const goals = [
    `info median ${fmt(infoMed)} ns vs goal ${GOAL.infoNs} ns: ${
      infoMed <= GOAL.infoNs ? "met" : "not met"
    }`,
    `inline median ${fmt(inlineMed)} ns vs goal ${GOAL.inlineNs} ns: ${
      inlineMed <= GOAL.inlineNs ? "met" : "not met"
    }`,
    `disabled median ${fmt(disMed, 2)} ns vs goal ${GOAL.disabledNs} ns: ${
      disMed <= GOAL.disabledNs ? "met" : "not met"
    }`,
    `end to end ("block") ${fmtInt(blockRate)} events/s vs goal ${fmtInt(GOAL.e2eEventsPerS)}: ${
      blockRate >= GOAL.e2eEventsPerS ? "met" : "not met"
    }`,
  ];
  console.log(`\nGoals (never fail the gate):\n- ${goals.join("\n- ")}`);
  const failed = checks.filter((k) => !k.ok).length;
  console.log(failed === 0 ? "\nGate passed." : `\nGate FAILED: ${failed} check(s) over budget.`);
  return failed === 0 ? 0 : 1;
}

// exitCode, not Deno.exit(): the process must end on its own, which proves every
// worker, file and timer was released.
Deno.exitCode = await main();
