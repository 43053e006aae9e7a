/**
 * Matrix item 2, hung worker: the store worker is made to spin in an endless
 * loop (which Deno 2.9.6's `terminate()` does not interrupt); the watchdog,
 * driven by an injected clock, calls it hung and it is replaced on the same
 * store and rings. A worker that only stalls for less than `hungAfterMs` is
 * left alone, and the store's lock keeps a second process out throughout.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Logger } from "../../src/front/logger.ts";
import type { LoggerOptions } from "../../src/front/options.ts";
import { MAX_HUNG_WORKERS } from "../../src/transport/watchdog.ts";
import { FaultyLogger } from "../support/faulty_logger.ts";
import { withTempDir } from "../support/temp_dir.ts";

/** Resolves once work waits for the worker (records published, or a batch posted). */
async function untilWaiting(t: FaultyLogger): Promise<void> {
  while (!t.waiting()) await new Promise((resolve) => setTimeout(resolve, 0));
}

const HUNG_AFTER_MS = 2000;

/** A logger whose worker the test hangs; the watchdog judges on the test's clock. */
function hangable(dir: string, options: LoggerOptions = {}): FaultyLogger {
  return new FaultyLogger({
    dir,
    transport: "sab",
    exitHooks: false,
    hungAfterMs: HUNG_AFTER_MS,
    ...options,
  });
}

/** Runs `fn` with a {@linkcode hangable} logger on a fresh store; closes it and removes the store. */
async function withHangable(
  options: LoggerOptions,
  fn: (t: FaultyLogger, dir: string) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const t = hangable(dir, options);
    try {
      await fn(t, dir);
    } finally {
      await t.close();
    }
  });
}

/**
 * Lets the watchdog call the worker hung once work waits for it: a first
 * sample, then HUNG_AFTER_MS on the clock. `restarted` settles when the
 * replacement is up (never, past MAX_HUNG_WORKERS).
 */
async function judgedHung(t: FaultyLogger): Promise<{ restarted: Promise<Error> }> {
  const restarted = t.nextRestart();
  await untilWaiting(t);
  t.watchdog.poll();
  t.now += HUNG_AFTER_MS;
  assert.equal(t.watchdog.poll(), true);
  return { restarted };
}

/** Every stored event's `(flow_id, n)`, and how many lack their bindings. */
async function storedSteps(log: Logger): Promise<{ keys: Set<string>; unbound: number }> {
  const page = await log.query({ limit: 100_000 });
  const keys = new Set<string>();
  let unbound = 0;
  for (const e of page.events) {
    if (e.event === "log.dropped") continue;
    if (typeof e.fields.flow_id !== "string" || e.fields.k === undefined) unbound++;
    keys.add(`${e.fields.flow_id}/${e.fields.n}`);
  }
  return { keys, unbound };
}

/** Runs `fn` with the logger's thread kept alive (the worker is unref()ed). */
async function alive<T>(fn: () => Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => {}, 1000);
  try {
    return await fn();
  } finally {
    clearInterval(keepAlive);
  }
}

/** Runs a subprocess that tries to open the store as a writer; returns the error's name or "opened". */
async function secondProcessOpens(dir: string): Promise<string> {
  const store = new URL("../../src/store/segment_store.ts", import.meta.url).href;
  const script = `import { SegmentStore } from ${JSON.stringify(store)};
try { SegmentStore.open(${JSON.stringify(dir)}).close(); console.log("opened"); }
catch (e) { console.log(e.name); }`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    cwd: new URL("../../", import.meta.url).pathname,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** What {@linkcode hangWorkerAtPoints} saw. */
export interface HangRun {
  emitted: number;
  persisted: number;
  dropped: number;
  restarts: number;
  /** Events stored (each `(flow, n)` once). */
  stored: number;
  /** Stored events without their child bindings. */
  unbound: number;
  /** Logged events not stored although they waited in the ring (sab: must be 0). */
  missing: number;
  /** The watchdog's verdict → the new worker has stored what waited (ms). */
  replaceMs: number[];
}

/**
 * Hangs the worker at `points` random points while children log: each time
 * the watchdog (on an injected clock) calls it hung after `hungAfterMs`, and
 * the replacement stores what waited. The hung thread is then let go, as a
 * hang that passes: it must not touch the rings again.
 */
export async function hangWorkerAtPoints(
  dir: string,
  points: number,
  seed: number,
  mode: "sab" | "message" = "sab",
): Promise<HangRun> {
  if (points > MAX_HUNG_WORKERS) {
    throw new RangeError(
      `A logger replaces at most ${MAX_HUNG_WORKERS} hung workers: use more loggers, not ${points} points`,
    );
  }
  let rnd = seed >>> 0;
  const random = () => (rnd = (Math.imul(rnd, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const t = hangable(dir, { transport: mode, ringBytes: 1 << 18 });
  const log = t.log;
  const children = Array.from({ length: 6 }, (_, i) => log.child({ flow_id: `f-${i}`, k: i }));
  let n = 0;
  const logSome = (count: number) => {
    for (let i = 0; i < count; i++) {
      children[n % children.length]!.info("step", {
        n: n++,
        big: random() < 0.05 ? "x".repeat(3000) : "",
      });
    }
  };
  const replaceMs: number[] = [];
  try {
    await alive(async () => {
      for (let p = 0; p < points; p++) {
        logSome(Math.floor(random() * 400));
        if (random() < 0.5) await log.flush().catch(() => {});
        await t.crashWorker("hang");
        // Logged while the worker spins: they wait for its replacement.
        logSome(50);
        const restarted = t.nextRestart();
        // The message transport gets a batch in flight to the hung worker.
        const flushing = log.flush().catch(() => {});
        await untilWaiting(t);
        assert.equal(t.watchdog.poll(), false);
        t.now += HUNG_AFTER_MS - 1;
        assert.equal(t.watchdog.poll(), false);
        t.now += 1;
        const verdict = performance.now();
        assert.equal(t.watchdog.poll(), true);
        // The hang ends just as it is judged, with the records still in the
        // ring: the old thread must leave them to its replacement.
        t.endHangs();
        const why = await restarted;
        assert.match(why.message, /no progress for 2000 ms/);
        await flushing;
        replaceMs.push(performance.now() - verdict);
      }
      logSome(300);
      // The first flush may report events a hung worker had taken (counted as dropped).
      await log.flush().catch(() => {});
      await log.flush();
    });
    const s = log.stats();
    const { keys, unbound } = await storedSteps(log);
    let missing = 0;
    for (let i = 0; i < n; i++) if (!keys.has(`f-${i % children.length}/${i}`)) missing++;
    return {
      emitted: s.emitted,
      persisted: s.persisted,
      dropped: s.dropped,
      restarts: t.restarts,
      stored: keys.size,
      unbound,
      missing,
      replaceMs,
    };
  } finally {
    await t.close();
  }
}

Deno.test("a sab worker hung in an endless loop at 3 points is replaced each time; every event is stored with its bindings", async () => {
  await withTempDir(async (dir) => {
    const r = await hangWorkerAtPoints(dir, 3, 7);
    assert.equal(r.restarts, 3);
    assert.equal(r.unbound, 0);
    // The hung worker had stored all it took: everything else waited in the ring.
    assert.equal(r.missing, 0);
    assert.equal(r.dropped, 0);
    assert.equal(r.emitted, r.persisted);
    assert.equal(r.stored, r.emitted);
  });
});

Deno.test("a message worker hung at 2 points is replaced; its batch in flight is counted as dropped and emitted = persisted + dropped", async () => {
  await withTempDir(async (dir) => {
    const r = await hangWorkerAtPoints(dir, 2, 11, "message");
    assert.equal(r.restarts, 2);
    assert.equal(r.unbound, 0);
    assert.ok(r.dropped > 0, "the batches posted to the hung worker");
    assert.equal(r.emitted, r.persisted + r.dropped);
    assert.ok(r.stored >= r.persisted && r.missing <= r.dropped);
  });
});

Deno.test("a worker hung inside a store write: its batch is counted as dropped, and once the write ends the old thread counts and takes nothing more", async () => {
  await withHangable({ ringBytes: 1 << 18 }, async (t) => {
    const log = t.log;
    const flow = log.child({ flow_id: "f-0", k: 0 });
    let n = 0;
    const logSome = (count: number) => {
      for (let i = 0; i < count; i++) flow.info("step", { n: n++ });
    };
    await alive(async () => {
      logSome(100);
      await log.flush();
      await t.crashWorker("hang-in-write");
      logSome(100); // the worker takes these and hangs writing them
      log.flush().catch(() => {});
      await t.hangReached("spinning");
      logSome(100); // these wait in the ring
      const { restarted } = await judgedHung(t);
      await restarted;
      // The replacement drains the ring; its first flush reports the lost batch.
      await assert.rejects(log.flush(), /events it had taken were lost and counted as dropped/);
      // The write ends: the old thread stores its batch, then must neither
      // count it nor drain the ring its successor owns.
      t.endHangs();
      await t.hangReached("ended");
      logSome(100);
      await log.flush();
    });
    const s = log.stats();
    assert.equal(s.emitted, 400);
    assert.ok(s.dropped > 0 && s.dropped <= 100, `dropped ${s.dropped}`);
    assert.equal(s.emitted, s.persisted + s.dropped);
    const { keys, unbound } = await storedSteps(log);
    assert.equal(unbound, 0);
    // The replacement's store holds exactly what was counted persisted, each once.
    assert.equal(keys.size, s.persisted);
    for (let i = 200; i < 400; i++) assert.ok(keys.has(`f-0/${i}`), `event ${i}`);
  });
});

Deno.test("a worker that hangs again and again is replaced MAX_HUNG_WORKERS times, then the logger stays failed and log calls still never throw", async () => {
  await withHangable({}, async (t) => {
    const log = t.log;
    await alive(async () => {
      for (let hang = 1; hang <= MAX_HUNG_WORKERS + 1; hang++) {
        log.info("step", { hang });
        await log.flush().catch(() => {});
        await t.crashWorker("hang");
        log.info("waiting", { hang });
        const { restarted } = await judgedHung(t);
        t.endHangs();
        if (hang <= MAX_HUNG_WORKERS) await restarted;
      }
    });
    assert.equal(t.restarts, MAX_HUNG_WORKERS);
    const s = log.stats();
    assert.equal(s.worker, "failed");
    assert.match(String(s.error), /hung 4 times; it is not replaced again/);
    // Logging goes on without a throw; what cannot be stored is counted.
    for (let i = 0; i < 10_000; i++) log.info("after_failure", { i, pad: "x".repeat(200) });
    await assert.rejects(log.flush(), /not replaced again/);
    assert.ok(log.stats().dropped > 0);
  });
});

Deno.test("a worker that stalls for less than hungAfterMs (a slow store write, a slow step) is not replaced, and loses nothing", async () => {
  await withHangable({ ringBytes: 1 << 18 }, async (t) => {
    const log = t.log;
    const flow = log.child({ flow_id: "f-0", k: 0 });
    await alive(async () => {
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 100; i++) flow.info("step", { n: round * 100 + i });
        await log.flush();
        // A slow step: records wait 1.9 s (by the clock) with no progress,
        // then it passes. Round 1: a slow store write, with a batch taken.
        let flushed: Promise<void> | null = null;
        if (round === 1) {
          await t.crashWorker("hang-in-write");
          for (let i = 0; i < 10; i++) flow.info("step", { n: 2000 + i });
          flushed = log.flush();
          await t.hangReached("spinning");
        } else {
          await t.crashWorker("hang");
        }
        flow.info("step", { n: 1000 + round });
        await untilWaiting(t);
        assert.equal(t.watchdog.poll(), false);
        t.now += HUNG_AFTER_MS - 100;
        assert.equal(t.watchdog.poll(), false);
        t.endHangs();
        await flushed;
        await log.flush();
        assert.equal(t.watchdog.poll(), false);
        t.now += HUNG_AFTER_MS - 100;
        assert.equal(t.watchdog.poll(), false);
      }
    });
    assert.equal(t.restarts, 0);
    // It was watching: the stall was seen and judged too short.
    assert.ok(t.watchdog.longestStallMs >= HUNG_AFTER_MS - 100);
    const s = log.stats();
    assert.equal(s.emitted, 313);
    assert.equal(s.persisted, 313);
    assert.equal(s.dropped, 0);
    assert.equal((await storedSteps(log)).keys.size, 313);
  });
});

Deno.test("the store's lock keeps a second process out before and after a hung worker is replaced, and is released by close()", async () => {
  await withHangable({}, async (t, dir) => {
    const log = t.log;
    await alive(async () => {
      log.info("first");
      await log.flush();
      assert.equal(await secondProcessOpens(dir), "StoreLockedError");
      await t.crashWorker("hang");
      log.info("waiting");
      const { restarted } = await judgedHung(t);
      await restarted;
      await log.flush();
      assert.equal(await secondProcessOpens(dir), "StoreLockedError");
    });
    assert.equal(log.stats().persisted, 2);
    await t.close();
    assert.equal(await secondProcessOpens(dir), "opened");
  });
});
