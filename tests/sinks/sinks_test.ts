/**
 * User sinks through `createLogger({ sinks })`: each module's sink receives
 * every persisted batch, redacted, in order; throws, rejections, a module
 * that does not load and a sink that never answers are counted in
 * `stats().sinks` and never hold back persistence or `flush()` for long.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, type Logger, type LoggerOptions, type SinkOptions } from "../../mod.ts";
import { withLogger } from "../support/test_logger.ts";
import { withTempDir } from "../support/temp_dir.ts";
import type { FileSinkOptions } from "./fixtures/file_sink.ts";
import { FaultyLogger } from "../support/faulty_logger.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);

interface Received {
  event: string;
  seq: number;
  fields: Record<string, unknown>;
}

function fileSink(dir: string, mode: FileSinkOptions["mode"], extra: Partial<SinkOptions> = {}) {
  const options: FileSinkOptions = { out: `${dir}/sink.jsonl`, mode };
  return { module: fixture("file_sink.ts"), options, ...extra };
}

// The batches the file sink wrote, one JSON line each.
function batches(dir: string): Received[][] {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${dir}/sink.jsonl`);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

const received = (dir: string) => batches(dir).flat();

// A logger with its store in dir/store, beside the file the sink writes in dir.
const withSinkLogger = (
  options: (dir: string) => LoggerOptions,
  fn: (log: Logger, dir: string) => Promise<void>,
) => withLogger((dir) => ({ dir: `${dir}/store`, ...options(dir) }), fn);

for (const transport of ["sab", "message", "inline"] as const) {
  for (const mode of ["sync", "async"] as const) {
    Deno.test(`createLogger({ sinks }) hands a ${mode} sink each persisted batch in order (${transport})`, async () => {
      await withSinkLogger((dir) => ({
        transport,
        sinks: [fileSink(dir, mode)],
      }), async (log, dir) => {
        for (let i = 0; i < 3; i++) log.info("first", { i });
        await log.flush();
        // flush() resolved: the sink has the flushed events already.
        assert.deepEqual(received(dir).map((e) => e.fields.i), [0, 1, 2]);
        for (let i = 3; i < 500; i++) log.info(i % 2 === 0 ? "even" : "odd", { i });
        await log.flush();
        const got = received(dir);
        assert.deepEqual(got.map((e) => e.fields.i), Array.from({ length: 500 }, (_, i) => i));
        assert.deepEqual(got.map((e) => e.seq), Array.from({ length: 500 }, (_, i) => i + 1));
        const s = log.stats().sinks?.[0];
        assert.deepEqual(s, {
          module: fixture("file_sink.ts").href,
          delivered: 500,
          dropped: 0,
          errors: 0,
          queued: 0,
          error: null,
        });
      });
    });
  }
}

Deno.test("createLogger({ sinks }) hands sinks the events after redaction", async () => {
  await withSinkLogger((dir) => ({
    redact: { patterns: true },
    sinks: [fileSink(dir, "sync")],
  }), async (log, dir) => {
    log.child({ api_key: "k-123" }).info("login", {
      password: "hunter2",
      note: "Authorization: Bearer abcdefghijklmnopqrstuvwxyz",
    });
    await log.flush();
    const [e] = received(dir);
    assert.equal(e?.fields.password, "[REDACTED]");
    assert.equal(e?.fields.api_key, "[REDACTED]");
    assert.doesNotMatch(JSON.stringify(e), /hunter2|k-123|abcdefghijklmnop/);
  });
});

for (const mode of ["throw", "reject"] as const) {
  Deno.test(`createLogger({ sinks }) counts a sink that ${mode}s and keeps persisting`, async () => {
    await withSinkLogger((dir) => ({
      sinks: [fileSink(dir, mode)],
    }), async (log, dir) => {
      log.info("ok", { n: 1 });
      await log.flush();
      log.info("bad", { n: 2 });
      await log.flush();
      log.info("ok", { n: 3 });
      await log.flush();
      assert.deepEqual(received(dir).map((e) => e.fields.n), [1, 3]);
      const s = log.stats();
      assert.equal(s.persisted, 3);
      assert.equal(s.sinks?.[0]?.errors, 1);
      assert.equal(s.sinks?.[0]?.delivered, 2);
      assert.match(s.sinks?.[0]?.error ?? "", /sink (refused|rejected) a bad event/);
      assert.equal((await log.query({})).events.length, 3);
    });
  });
}

for (const transport of ["sab", "inline"] as const) {
  Deno.test(`createLogger({ sinks }) bounds a sink that never answers: drops past maxQueued, flush() within flushTimeoutMs (${transport})`, async () => {
    await withSinkLogger((dir) => ({
      transport,
      sinks: [fileSink(dir, "hang", { maxQueued: 10, flushTimeoutMs: 50 })],
    }), async (log, dir) => {
      for (let i = 0; i < 25; i++) log.info("step", { i });
      await log.flush();
      for (let i = 25; i < 30; i++) log.info("step", { i });
      await log.flush();
      const s = log.stats();
      assert.equal(s.persisted, 30);
      assert.equal(s.dropped, 0);
      assert.equal((await log.query({ limit: 100 })).events.length, 30);
      const sink = s.sinks?.[0];
      assert.equal(sink?.delivered, 0);
      assert.equal(sink?.queued, 10);
      assert.equal(sink?.dropped, 20);
      assert.equal(sink?.errors, 0);
      // The sink holds its first batch: the events it got are the oldest, in order.
      const got = received(dir).map((e) => e.fields.i);
      assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i));
    });
  });
}

for (
  const [name, file, message] of [
    [
      "fails to import",
      "broken_import.ts",
      /Cannot import sink module .*broken_import\.ts: .*broken at import; check option sinks\[0\]\.module/,
    ],
    [
      "has no function as default export",
      "not_a_factory.ts",
      /Sink module .*not_a_factory\.ts must export a function as default, \(options\) => sink; its default export is of type object/,
    ],
  ] as const
) {
  Deno.test(`createLogger({ sinks }) reports a module that ${name} and keeps persisting`, async () => {
    await withSinkLogger((dir) => ({
      sinks: [{ module: fixture(file) }, fileSink(dir, "sync")],
    }), async (log, dir) => {
      for (let i = 0; i < 4; i++) log.info("step", { i });
      await log.flush();
      const s = log.stats();
      assert.equal(s.persisted, 4);
      assert.match(s.sinks?.[0]?.error ?? "", message);
      assert.equal(s.sinks?.[0]?.errors, 1);
      assert.equal(s.sinks?.[0]?.dropped, 4);
      assert.equal(s.sinks?.[0]?.delivered, 0);
      // The other sink is not affected.
      assert.equal(s.sinks?.[1]?.delivered, 4);
      assert.equal(received(dir).length, 4);
    });
  });
}

Deno.test("createLogger({ sinks }) resolves a relative module against the working directory", async () => {
  const path = relative(Deno.cwd(), fileURLToPath(fixture("file_sink.ts")));
  assert.ok(!path.startsWith("/"));
  await withSinkLogger((dir) => ({
    sinks: [{ module: path, options: { out: `${dir}/sink.jsonl`, mode: "sync" } }],
  }), async (log, dir) => {
    log.info("hello");
    await log.flush();
    assert.equal(log.stats().sinks?.[0]?.module, fixture("file_sink.ts").href);
    assert.deepEqual(received(dir).map((e) => e.event), ["hello"]);
  });
});

Deno.test("createLogger({ sinks }) disposes of a sink when the logger closes", async () => {
  await withTempDir(async (dir) => {
    const log = createLogger({
      dir: `${dir}/store`,
      exitHooks: false,
      sinks: [{ module: fixture("disposable_sink.ts"), options: { out: `${dir}/disposed` } }],
    });
    log.info("x");
    await log.flush();
    await log.close();
    assert.equal(Deno.readTextFileSync(`${dir}/disposed`), "disposed");
  });
});

Deno.test("createLogger({ sinks }) checks the option at once with a TypeError or RangeError", () => {
  const bad: [unknown, ErrorConstructor, RegExp][] = [
    ["./sink.ts", TypeError, /Option sinks must be a list such as \[\{ module:/],
    [[null], TypeError, /Option sinks\[0\] must be an object/],
    [[{}], TypeError, /Option sinks\[0\]\.module must be a non-empty path or URL .*got nothing/],
    [[{ module: 42 }], TypeError, /Option sinks\[0\]\.module .*got number/],
    [[{ module: "" }], TypeError, /Option sinks\[0\]\.module must be a non-empty/],
    [
      [{ module: "./no/such/sink.ts" }],
      TypeError,
      /Module "\.\/no\/such\/sink\.ts" of option sinks\[0\]\.module cannot be read .*working directory/,
    ],
    [
      [{ module: fixture("file_sink.ts"), options: { f: () => {} } }],
      TypeError,
      /Option sinks\[0\]\.options must be structured-cloneable/,
    ],
    [
      [{ module: fixture("file_sink.ts"), maxQueue: 1 }],
      TypeError,
      /did you mean "sinks\[0\]\.maxQueued"/,
    ],
    [
      [{ module: fixture("file_sink.ts"), maxQueued: 0 }],
      RangeError,
      /sinks\[0\]\.maxQueued must be a positive integer/,
    ],
    [
      [{ module: fixture("file_sink.ts"), flushTimeoutMs: -1 }],
      RangeError,
      /sinks\[0\]\.flushTimeoutMs/,
    ],
  ];
  for (const [sinks, type, message] of bad) {
    assert.throws(
      () => createLogger({ dir: "/nonexistent/never-created", sinks: sinks as SinkOptions[] }),
      (err: unknown) => err instanceof type && message.test((err as Error).message),
      JSON.stringify(sinks),
    );
  }
});

Deno.test("stats().sinks follows the worker's sinks without a flush", async () => {
  await withSinkLogger((dir) => ({
    flushIntervalMs: 1,
    sinks: [fileSink(dir, "sync")],
  }), async (log) => {
    for (let i = 0; i < 20; i++) log.info("step", { i });
    // The worker drains on its own and reports its sinks' counters within 100 ms of a change.
    const deadline = performance.now() + 10_000;
    while (log.stats().sinks?.[0]?.delivered !== 20 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(log.stats().sinks?.[0]?.delivered, 20);
  });
});

Deno.test("stats().sinks adds a restarted worker's counters to the dead one's", async () => {
  const dir = await Deno.makeTempDir();
  const faulty = new FaultyLogger({
    dir: `${dir}/store`,
    exitHooks: false,
    transport: "sab",
    sinks: [fileSink(dir, "sync")],
  });
  const log = faulty.log;
  try {
    for (let i = 0; i < 5; i++) log.info("before", { i });
    await log.flush();
    assert.equal(log.stats().sinks?.[0]?.delivered, 5);
    const restarted = faulty.nextRestart();
    await faulty.crashWorker("terminate");
    await restarted;
    for (let i = 5; i < 8; i++) log.info("after", { i });
    await log.flush();
    // The new worker loaded the module again and counts from zero: the logger adds them up.
    assert.equal(log.stats().sinks?.[0]?.delivered, 8);
    assert.deepEqual(received(dir).map((e) => e.fields.i), [0, 1, 2, 3, 4, 5, 6, 7]);
  } finally {
    await faulty.close();
    await Deno.remove(dir, { recursive: true });
  }
});
