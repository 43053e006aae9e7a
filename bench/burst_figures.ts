/**
 * The figures behind the default ring size (docs/performance.md "Bursts into
 * the default ring"), one mode per run:
 *
 *   deno run -A bench/burst_figures.ts sizes [MiB…]  # bursts of 10,000 and 100,000 by ring size
 *   deno run -A bench/burst_figures.ts wake          # producer notify → worker waitAsync resolved
 *   deno run -A bench/burst_figures.ts lap           # caller cost over a fresh ring's first lap
 *   deno run -A bench/burst_figures.ts memory [MiB] [every]  # resident memory, 200,000 events
 *   deno run -A bench/burst_figures.ts faults        # one write per page of a fresh 16 MiB buffer
 *   deno run -A bench/burst_figures.ts page-memory   # Chromium's renderers, isolated page
 *
 * The workload is `STEP_INLINE` (seven fields inline, a per-call string, a
 * float): 92–96 ring bytes a record. A burst is a fresh logger, its worker up,
 * then the calls in one task; `memory` with `every` flushes every that many
 * calls instead. It is a task, not a test.
 *
 * @module
 */
import { createLogger, type LoggerOptions } from "../mod.ts";
import { inlineLoop, interleave, quartiles, withTempDir } from "./_workload.ts";

const MIB = 1 << 20;

function options(dir: string, mib: number): LoggerOptions & { dir: string } {
  return mib === 0 ? { dir, exitHooks: false } : { dir, exitHooks: false, ringBytes: mib * MIB };
}

async function sizes(mibs: number[]): Promise<void> {
  for (const mib of mibs) {
    for (const n of [10_000, 100_000]) {
      const dropped: number[] = [];
      const ms: number[] = [];
      for (let r = 0; r < 5; r++) {
        await withTempDir(async (dir) => {
          const log = createLogger(options(dir, mib));
          try {
            await log.flush();
            const t0 = performance.now();
            inlineLoop(log, n);
            ms.push(performance.now() - t0);
            dropped.push(log.stats().dropped);
            await log.flush();
          } finally {
            await log.close();
          }
        });
      }
      console.log(
        `${mib === 0 ? "default" : `${mib} MiB`} ring, burst of ${n}: dropped ${
          dropped.join(" / ")
        }; calls took ${ms.map((x) => x.toFixed(0)).join(" / ")} ms`,
      );
    }
  }
}

// The worker waits as the consumer does (SLEEPING = 1, then waitAsync); this
// thread notifies as the producer does, busy right after it or idle.
const WAKE_WORKER = `
self.onmessage = async (e) => {
  const i32 = new Int32Array(e.data);
  const f64 = new Float64Array(e.data, 16, 1);
  const us = [];
  while (us.length < 200) {
    Atomics.store(i32, 0, 1);
    Atomics.store(i32, 1, 1);
    const r = Atomics.waitAsync(i32, 0, 1, 5000);
    if (r.async) await r.value;
    us.push((performance.timeOrigin + performance.now() - f64[0]) * 1000);
  }
  self.postMessage(us);
};`;

async function wake(): Promise<void> {
  const sab = new SharedArrayBuffer(64);
  const i32 = new Int32Array(sab);
  const f64 = new Float64Array(sab, 16, 1);
  const url = URL.createObjectURL(new Blob([WAKE_WORKER], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const done = new Promise<number[]>((resolve) => (worker.onmessage = (e) => resolve(e.data)));
  worker.postMessage(sab);
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let k = 0; k < 200; k++) {
    while (Atomics.load(i32, 1) !== 1) await pause(1);
    await pause(2);
    Atomics.store(i32, 1, 0);
    f64[0] = performance.timeOrigin + performance.now();
    Atomics.store(i32, 0, 0);
    Atomics.notify(i32, 0);
    if (k % 2 === 0) {
      const t = performance.now();
      while (performance.now() - t < 3) { /* the caller stays busy, as in a burst */ }
    }
  }
  const us = await done;
  worker.terminate();
  URL.revokeObjectURL(url);
  for (const [label, parity] of [["caller busy", 0], ["caller idle", 1]] as const) {
    const xs = us.filter((_, k) => k % 2 === parity).sort((a, b) => a - b);
    const q = (p: number) => xs[Math.floor((xs.length - 1) * p)]!.toFixed(0);
    console.log(
      `wake-up, ${label}: median ${q(0.5)} µs, p10 ${q(0.1)}, p90 ${q(0.9)}, max ${
        q(1)
      } (${xs.length} samples)`,
    );
  }
}

async function lap(): Promise<void> {
  await withTempDir(async (dir) => {
    const small = createLogger(options(`${dir}/a`, 1));
    const fresh = createLogger(options(`${dir}/b`, 16));
    const lapped = createLogger(options(`${dir}/c`, 16));
    try {
      for (const log of [small, fresh, lapped]) await log.flush();
      // 120 batches of 168 KB: once round the 16 MiB ring.
      for (let k = 0; k < 120; k++) {
        inlineLoop(lapped, 1000);
        await lapped.flush();
      }
      const from = [0, 0, 0];
      const logs = [small, fresh, lapped];
      const s = await interleave(
        logs.map((log, k) => ({
          loop: (n: number) => {
            inlineLoop(log, n, from[k]!);
            from[k]! += n;
          },
          settle: () => log.flush(),
        })),
        { batch: 1000, warmup: 0, batches: 200 },
      );
      const names = ["1 MiB ring", "16 MiB ring, fresh", "16 MiB ring, one lap done"];
      for (let k = 0; k < 3; k++) {
        console.log(
          `${names[k]!.padEnd(26)} ns/call, batches 1–100: ${
            quartiles(s[k]!.slice(0, 100)).join(" / ")
          }; 101–200: ${quartiles(s[k]!.slice(100)).join(" / ")} (median / p25 / p75)`,
        );
      }
    } finally {
      for (const log of [small, fresh, lapped]) await log.close();
    }
  });
}

async function memory(mib: number, every: number): Promise<void> {
  await withTempDir(async (dir) => {
    const warm = createLogger(options(`${dir}/warm`, 1));
    await warm.flush();
    await warm.close();
    const base = Deno.memoryUsage().rss;
    const log = createLogger(options(dir, mib));
    try {
      await log.flush();
      const created = Deno.memoryUsage().rss;
      // The idle worker touches the ring's pages by timer steps after start-up.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const idle = Deno.memoryUsage().rss;
      for (let r = 0; r < 2; r++) {
        for (let done = 0; done < 100_000; done += every) {
          inlineLoop(log, Math.min(every, 100_000 - done), done);
          if (done + every < 100_000) await log.flush();
        }
        await log.flush();
      }
      const after = Deno.memoryUsage().rss;
      const m = (b: number) => (b / MIB).toFixed(1);
      console.log(
        `${mib === 0 ? "default" : `${mib} MiB`} ring, flushed every ${every}: RSS +${
          m(created - base)
        } MiB after createLogger() and a flush, +${m(idle - base)} MiB 500 ms later, +${
          m(after - base)
        } MiB after 200,000 events; ` +
          `dropped ${log.stats().dropped}`,
      );
    } finally {
      await log.close();
    }
  });
}

function faults(): void {
  for (
    const [label, buf] of [
      ["SharedArrayBuffer", new SharedArrayBuffer(16 * MIB)],
      ["ArrayBuffer", new ArrayBuffer(16 * MIB)],
    ] as const
  ) {
    const u8 = new Uint8Array(buf);
    const t = performance.now();
    for (let i = 0; i < u8.length; i += 4096) u8[i] = 1;
    const ms = performance.now() - t;
    console.log(
      `${label}, 16 MiB, one write per 4 KiB page: ${ms.toFixed(1)} ms (${
        (ms * 1000 / 4096).toFixed(2)
      } µs a page)`,
    );
  }
}

/**
 * Resident memory of the renderer processes of this process's Chromium (its
 * descendants only: other Chromiums may run on the machine), in MiB (Linux `ps`).
 */
async function rendererMiB(): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-eo", "pid,ppid,rss,args"], stdout: "piped" })
    .output();
  const rows = new TextDecoder().decode(out.stdout).split("\n").slice(1).map((line) => {
    const [pid, ppid, rss, ...args] = line.trim().split(/\s+/);
    return { pid: Number(pid), ppid: Number(ppid), rss: Number(rss), args: args.join(" ") };
  });
  const mine = new Set([Deno.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows) {
      if (mine.has(r.ppid) && !mine.has(r.pid)) {
        mine.add(r.pid);
        grew = true;
      }
    }
  }
  let kb = 0;
  for (const r of rows) if (mine.has(r.pid) && r.args.includes("--type=renderer")) kb += r.rss;
  return kb / 1024;
}

// Runs in the page: 2 × 100,000 STEP_INLINE calls, in one task each or flushed every `every`.
async function pageLog(every: number): Promise<{ dropped: number; ring: number }> {
  // deno-lint-ignore no-explicit-any
  const log = (globalThis as any).burstLog;
  for (let r = 0; r < 2; r++) {
    for (let i = 0; i < 100_000; i++) {
      if (i % every === every - 1) await log.flush();
      log.info("step_end", {
        flow_id: "f-7c1e2a90",
        run_id: "r-20261122-0042",
        job_id: "j-318",
        step_id: "step-" + i,
        step_type: "http",
        duration_ms: 12.5 + (i & 1023),
        status: "ok",
      });
    }
    await log.flush();
  }
  const s = log.stats();
  await log.close();
  return { dropped: s.dropped, ring: s.ring_bytes };
}

async function pageMemory(): Promise<void> {
  const { forEachPageMode } = await import("./_browser.ts");
  const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
  await forEachPageMode(async ({ mode, context, serve }) => {
    if (mode !== "sab") return;
    // The default ring in bursts, against 1 MiB logged 5,000 at a time (which drops nothing).
    for (const [ringBytes, every] of [[MIB, 5000], [0, 1e9], [MIB, 5000], [0, 1e9]] as const) {
      const page = await context.newPage();
      await page.goto(serve().url);
      await page.waitForFunction(() => (globalThis as { flightlogReady?: boolean }).flightlogReady);
      await settle();
      const base = await rendererMiB();
      await page.evaluate(async (rb) => {
        // deno-lint-ignore no-explicit-any
        const g = globalThis as any;
        const opts = rb === 0 ? { dir: "burst-memory" } : { dir: "burst-memory", ringBytes: rb };
        g.burstLog = g.flightlog.createLogger(opts);
        await g.burstLog.flush();
      }, ringBytes);
      await settle();
      const created = await rendererMiB();
      const r = await page.evaluate(pageLog, every);
      await settle();
      const after = await rendererMiB();
      console.log(
        `${ringBytes === 0 ? "default" : "1 MiB"} ring (${r.ring} bytes), ${
          every > 100_000 ? "bursts of 100,000" : `flushed every ${every}`
        }: renderer RSS +${(created - base).toFixed(1)} MiB after createLogger() and a flush, +${
          (after - base).toFixed(1)
        } MiB after 200,000 events; dropped ${r.dropped}`,
      );
      await page.close();
    }
  });
}

const [mode, ...rest] = Deno.args;
if (mode === "sizes") await sizes(rest.length === 0 ? [1, 2, 4, 8, 16] : rest.map(Number));
else if (mode === "wake") await wake();
else if (mode === "lap") await lap();
else if (mode === "memory") await memory(Number(rest[0] ?? 0), Number(rest[1] ?? 100_000));
else if (mode === "faults") faults();
else if (mode === "page-memory") await pageMemory();
else {
  console.error(
    "Usage: burst_figures.ts sizes [MiB…] | wake | lap | memory [MiB] [every] | faults | page-memory",
  );
}
