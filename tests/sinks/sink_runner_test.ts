import assert from "node:assert/strict";
import { type ModuleLoader, Sinks } from "../../src/sinks/sink_runner.ts";
import type { SinkConfig } from "../../src/sinks/sink.ts";
import type { LogEvent } from "../../src/event.ts";

function events(from: number, to: number): LogEvent[] {
  const out: LogEvent[] = [];
  for (let seq = from; seq <= to; seq++) {
    out.push({
      ts_ms: seq,
      level: "info",
      severity: 9,
      event: "e",
      producer: "p.0",
      seq,
      fields: {},
    });
  }
  return out;
}

function config(extra: Partial<SinkConfig> = {}): SinkConfig {
  return { module: "mem:sink", options: null, maxQueued: 100, flushTimeoutMs: 1000, ...extra };
}

const moduleOf = (factory: unknown): ModuleLoader => () => Promise.resolve({ default: factory });

Deno.test("Sinks.settle() resolves once the sink took the batch, not at flushTimeoutMs", async () => {
  const sinks = new Sinks([config({ flushTimeoutMs: 2 ** 31 - 1 })], () => {}, {
    load: moduleOf(() => () => {}),
  });
  sinks.offer(events(1, 1));
  // settle() before any other timer of this file: Deno's first setTimeout runs queued microtasks.
  const settled = sinks.settle().then(() => "settled");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => timer = setTimeout(() => resolve("late"), 5000));
  const first = await Promise.race([settled, late]);
  clearTimeout(timer);
  assert.equal(first, "settled");
  await sinks.close();
});

Deno.test("Sinks reports a failing sink once and counts every failure", async () => {
  const lines: string[] = [];
  const sinks = new Sinks([config()], (text) => lines.push(text), {
    load: moduleOf(() => () => {
      throw new Error("nope");
    }),
  });
  for (let i = 1; i <= 3; i++) {
    sinks.offer(events(i, i));
    await sinks.settle();
  }
  assert.equal(lines.length, 1);
  assert.match(
    lines[0]!,
    /^flightlog: sink mem:sink failed: nope; .*stats\(\)\.sinks\[0\]\.errors\n$/,
  );
  assert.deepEqual(sinks.stats()[0], {
    module: "mem:sink",
    delivered: 0,
    dropped: 0,
    errors: 3,
    queued: 0,
    error: "nope",
  });
  await sinks.close();
});

Deno.test("Sinks waits for an async factory and queues what comes meanwhile, up to maxQueued", async () => {
  let release!: (sink: (e: LogEvent[]) => void) => void;
  const got: number[] = [];
  const sinks = new Sinks([config({ maxQueued: 5 })], () => {}, {
    load: moduleOf(() => new Promise((resolve) => release = resolve)),
  });
  await null; // the loader has called the factory
  sinks.offer(events(1, 3));
  sinks.offer(events(4, 8)); // two fit
  assert.deepEqual(sinks.stats()[0]?.queued, 5);
  assert.deepEqual(sinks.stats()[0]?.dropped, 3);
  release((batch) => got.push(...batch.map((e) => e.seq)));
  await sinks.settle();
  assert.deepEqual(got, [1, 2, 3, 4, 5]);
  assert.equal(sinks.stats()[0]?.delivered, 5);
  await sinks.close();
});

Deno.test("Sinks reports a factory that throws or returns no function, and drops its events", async () => {
  for (
    const [factory, message] of [
      [() => {
        throw new Error("bad options");
      }, /^bad options$/],
      [() => 42, /must return a sink, a function \(events\) => void, not a value of type number/],
    ] as const
  ) {
    const lines: string[] = [];
    const sinks = new Sinks([config()], (text) => lines.push(text), { load: moduleOf(factory) });
    sinks.offer(events(1, 4));
    await sinks.settle();
    const s = sinks.stats()[0]!;
    assert.match(s.error ?? "", message);
    assert.equal(s.errors, 1);
    assert.equal(s.dropped, 4);
    assert.equal(s.queued, 0);
    assert.equal(lines.length, 1);
    sinks.offer(events(5, 5));
    assert.equal(sinks.stats()[0]?.dropped, 5);
    await sinks.close();
  }
});

Deno.test("Sinks.settle() gives up on a sink that never answers after flushTimeoutMs", async () => {
  const sinks = new Sinks([config({ flushTimeoutMs: 20 })], () => {}, {
    load: moduleOf(() => () => new Promise<void>(() => {})),
  });
  sinks.offer(events(1, 2));
  const started = performance.now();
  await sinks.settle();
  assert.ok(performance.now() - started >= 15);
  assert.equal(sinks.stats()[0]?.queued, 2);
  await sinks.close();
});

Deno.test("Sinks gives each sink its own array", async () => {
  const seen: number[][] = [];
  const load = moduleOf(() => (batch: LogEvent[]) => {
    seen.push(batch.map((e) => e.seq));
    batch.reverse();
  });
  const sinks = new Sinks([config(), config()], () => {}, { load });
  const batch = events(1, 3);
  sinks.offer(batch);
  await sinks.settle();
  assert.deepEqual(seen, [[1, 2, 3], [1, 2, 3]]);
  assert.deepEqual(batch.map((e) => e.seq), [1, 2, 3]);
  await sinks.close();
});

Deno.test("Sinks.close() disposes of a sink with Symbol.dispose after its last batch", async () => {
  const calls: string[] = [];
  const sinks = new Sinks([config()], () => {}, {
    load: moduleOf(() =>
      Object.assign(async () => {
        await null;
        calls.push("batch");
      }, { [Symbol.dispose]: () => calls.push("dispose") })
    ),
  });
  await null;
  sinks.offer(events(1, 1));
  await sinks.close();
  assert.deepEqual(calls, ["batch", "dispose"]);
  sinks.offer(events(2, 2));
  assert.equal(sinks.stats()[0]?.dropped, 1);
});
