/**
 * createLogger's console and metrics options end to end: metrics rendered in
 * the worker (or the inline consumer) from persisted lifecycle events of
 * every producer, the FLIGHTLOG_METRICS_MODULE sink, and the /metrics
 * listener, and how the options resolve with the environment. Console output
 * of a real process: tests/e2e/console_test.ts.
 */
import assert from "node:assert/strict";
import { createLogger, type Logger } from "../../mod.ts";
import {
  type CallerEnv,
  type ConsoleOptions,
  resolveObserverConfig,
  resolveServe,
} from "../../src/sinks/setup.ts";
import { promtoolCheck } from "../support/promtool.ts";

function runFlow(log: Logger, runId: string): void {
  const run = log.child({ flow_id: "flow-m", run_id: runId });
  run.info("run_start");
  const job = run.child({ job_id: "j1" });
  job.info("job_start");
  job.info("step_start", { step_id: "s1", step_type: "llm" });
  job.info("step_end", { step_id: "s1", step_type: "llm", status: "ok", duration_ms: 250 });
  job.info("step_end", { step_id: "s2", step_type: "http", status: "failed", duration_ms: 40 });
  job.info("step_end", { step_id: "s3", step_type: "tool", status: "skipped", duration_ms: 0 });
  job.info("job_end", { status: "failed", duration_ms: 300 });
  run.error("run_end", { status: "failed", duration_ms: 320 });
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-metrics-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const transport of ["sab", "message", "inline"] as const) {
  Deno.test(`logger.metrics() counts persisted lifecycle events and passes promtool (${transport})`, async () => {
    await withDir(async (dir) => {
      const log = createLogger({ dir, transport, metrics: true, exitHooks: false });
      try {
        runFlow(log, "r1");
        runFlow(log, "r2");
        const text = await log.metrics();
        const lines = text.split("\n");
        for (
          const want of [
            'flightlog_runs_total{status="failed"} 2',
            "flightlog_runs_active 0",
            'flightlog_run_duration_seconds_count{status="failed"} 2',
            'flightlog_jobs_total{status="failed"} 2',
            'flightlog_steps_total{step_type="llm",status="ok"} 2',
            'flightlog_steps_total{step_type="http",status="failed"} 2',
            'flightlog_steps_total{step_type="tool",status="skipped"} 2',
            'flightlog_step_duration_seconds_bucket{step_type="llm",le="0.25"} 2',
            'flightlog_events_total{level="info"} 14',
            'flightlog_events_total{level="error"} 2',
            "flightlog_dropped_events_total 0",
          ]
        ) assert.ok(lines.includes(want), `missing ${want}\n${text}`);
        const check = await promtoolCheck(text);
        assert.equal(check.output, "");
        assert.equal(check.code, 0);
      } finally {
        await log.close();
      }
    });
  });
}

Deno.test("logger.metrics() counts events of an attached application Worker", async () => {
  await withDir(async (dir) => {
    const log = createLogger({ dir, transport: "sab", metrics: true, exitHooks: false });
    const worker = new Worker(new URL("../support/attached_worker.ts", import.meta.url), {
      type: "module",
    });
    try {
      const done = new Promise((resolve) => (worker.onmessage = (e) => resolve(e.data)));
      worker.postMessage({ handle: log.producerHandle(), count: 50 });
      await done;
      log.info("local");
      const text = await log.metrics();
      assert.match(text, /^flightlog_events_total\{level="info"\} 51$/m);
      assert.equal((text.match(/^flightlog_ring_fill_ratio\{/gm) ?? []).length, 2);
    } finally {
      worker.terminate();
      await log.close();
    }
  });
});

Deno.test("logger.metrics() reports the ring fill as the producer left it, then drains", async () => {
  await withDir(async (dir) => {
    const log = createLogger({ dir, transport: "inline", metrics: true, exitHooks: false });
    try {
      for (let i = 0; i < 100; i++) log.info("tick", { i });
      const fill = (text: string) =>
        Number(/^flightlog_ring_fill_ratio\{producer="[^"]+"\} (\S+)$/m.exec(text)?.[1]);
      const first = await log.metrics();
      assert.ok(fill(first) > 0, first);
      assert.match(first, /^flightlog_events_total\{level="info"\} 100$/m);
      assert.equal(fill(await log.metrics()), 0);
    } finally {
      await log.close();
    }
  });
});

Deno.test("logger.metrics() rejects with a TypeError when the metrics option is off", async () => {
  await withDir(async (dir) => {
    const log = createLogger({ dir, transport: "inline", exitHooks: false });
    try {
      await assert.rejects(log.metrics(), { name: "TypeError", message: /metrics: true/ });
      assert.equal(log.metricsUrl(), null);
    } finally {
      await log.close();
    }
  });
});

Deno.test("FLIGHTLOG_METRICS_MODULE sink gets every lifecycle callback, in the worker", async () => {
  await withDir(async (dir) => {
    const out = `${dir}/sink.jsonl`;
    const module = new URL("./fixtures/recording_metrics.ts", import.meta.url).pathname;
    Deno.env.set("FLIGHTLOG_METRICS_MODULE", module);
    Deno.env.set("FLIGHTLOG_TEST_SINK_OUT", out);
    let log: Logger;
    try {
      log = createLogger({ dir: `${dir}/store`, transport: "sab", exitHooks: false });
    } finally {
      Deno.env.delete("FLIGHTLOG_METRICS_MODULE");
    }
    try {
      runFlow(log, "r1");
      await log.flush();
      const calls = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
      const run = { flow_id: "flow-m", run_id: "r1" };
      const job = { ...run, job_id: "j1" };
      assert.deepEqual(calls, [
        ["onRunStart", run],
        ["onJobStart", job],
        ["onStepStart", { ...job, step_id: "s1", step_type: "llm" }],
        ["onStepEnd", { ...job, step_id: "s1", step_type: "llm" }, {
          status: "ok",
          duration_ms: 250,
        }],
        ["onStepEnd", { ...job, step_id: "s2", step_type: "http" }, {
          status: "failed",
          duration_ms: 40,
        }],
        ["onStepEnd", { ...job, step_id: "s3", step_type: "tool" }, {
          status: "skipped",
          duration_ms: 0,
        }],
        ["onJobEnd", job, { status: "failed", duration_ms: 300 }],
        ["onRunEnd", run, { status: "failed", duration_ms: 320 }],
      ]);
      // The built-in registry is on too.
      assert.match(await log.metrics(), /^flightlog_runs_total\{status="failed"\} 1$/m);
    } finally {
      await log.close();
      Deno.env.delete("FLIGHTLOG_TEST_SINK_OUT");
    }
  });
});

Deno.test("createLogger() refuses a FLIGHTLOG_METRICS_MODULE path that does not exist", () => {
  Deno.env.set("FLIGHTLOG_METRICS_MODULE", "./no/such/metrics.ts");
  try {
    assert.throws(() => createLogger({ transport: "inline", exitHooks: false }), {
      name: "TypeError",
      message: /Metrics module "\.\/no\/such\/metrics\.ts" cannot be read/,
    });
  } finally {
    Deno.env.delete("FLIGHTLOG_METRICS_MODULE");
  }
});

Deno.test("createLogger() reads FLIGHTLOG_FORMAT from the process environment", () => {
  Deno.env.set("FLIGHTLOG_FORMAT", "yaml");
  try {
    assert.throws(() => createLogger({ transport: "inline", console: true, exitHooks: false }), {
      name: "TypeError",
      message: 'FLIGHTLOG_FORMAT must be "text", "json" or "pretty", got "yaml": fix or unset it',
    });
  } finally {
    Deno.env.delete("FLIGHTLOG_FORMAT");
  }
});

function rt(env: Record<string, string> = {}, tty = false): CallerEnv {
  return { env: (n) => env[n], isTerminal: () => tty, moduleUrl: (s) => `resolved:${s}` };
}

Deno.test("resolveObserverConfig() leaves console and metrics off unless asked", () => {
  assert.deepEqual(resolveObserverConfig({}, "info", rt({ FLIGHTLOG_FORMAT: "json" })), {
    console: null,
    metrics: null,
  });
  assert.equal(
    resolveObserverConfig({ console: false, metrics: false }, "info", rt()).console,
    null,
  );
});

Deno.test("resolveObserverConfig() takes the format from the option, else FLIGHTLOG_FORMAT", () => {
  const json = rt({ FLIGHTLOG_FORMAT: "json" });
  assert.equal(resolveObserverConfig({ console: true }, "info", rt()).console?.format, "text");
  assert.equal(resolveObserverConfig({ console: true }, "info", json).console?.format, "json");
  assert.equal(
    resolveObserverConfig({ console: { format: "text" } }, "info", json).console?.format,
    "text",
  );
  assert.throws(
    () => resolveObserverConfig({ console: true }, "info", rt({ FLIGHTLOG_FORMAT: "yaml" })),
    {
      name: "TypeError",
      message: /FLIGHTLOG_FORMAT must be "text", "json" or "pretty", got "yaml"/,
    },
  );
  const pretty = rt({ FLIGHTLOG_FORMAT: "pretty" });
  assert.equal(resolveObserverConfig({ console: true }, "info", pretty).console?.format, "pretty");
  assert.equal(
    resolveObserverConfig({ console: { format: "pretty" } }, "info", rt()).console?.format,
    "pretty",
  );
});

Deno.test("resolveObserverConfig() makes pretty the default when the console's stream is a terminal", () => {
  const ttyOnly = (tty: "stdout" | "stderr", env: Record<string, string> = {}): CallerEnv => ({
    env: (n) => env[n],
    isTerminal: (s) => s === tty,
    moduleUrl: (s) => s,
  });
  const format = (o: ConsoleOptions | true, e: CallerEnv) =>
    resolveObserverConfig({ console: o }, "info", e).console?.format;
  assert.equal(format(true, ttyOnly("stderr")), "pretty");
  assert.equal(format(true, ttyOnly("stdout")), "text");
  assert.equal(format({ stream: "stdout" }, ttyOnly("stdout")), "pretty");
  // The option, then the environment, win over the terminal.
  assert.equal(format({ format: "text" }, ttyOnly("stderr")), "text");
  assert.equal(format(true, ttyOnly("stderr", { FLIGHTLOG_FORMAT: "json" })), "json");
  // NO_COLOR keeps the layout and drops the colors.
  const noColor = resolveObserverConfig(
    { console: true },
    "info",
    ttyOnly("stderr", { NO_COLOR: "1" }),
  );
  assert.equal(noColor.console?.format, "pretty");
  assert.equal(noColor.console?.colors, false);
});

Deno.test("resolveObserverConfig() takes console.time and the logger's start", () => {
  const c = (o: ConsoleOptions | true) =>
    resolveObserverConfig({ console: o }, "info", rt(), 1234).console;
  assert.equal(c(true)?.time, "iso");
  assert.equal(c(true)?.startMs, 1234);
  assert.equal(c({ time: "elapsed" })?.time, "elapsed");
  assert.equal(c({ time: false })?.time, false);
  assert.throws(() => c({ time: "local" as never }), {
    name: "TypeError",
    message: 'Invalid option console.time "local": use "iso", "elapsed" or false',
  });
  assert.throws(() => c({ time: true as never }), TypeError);
});

Deno.test("resolveObserverConfig() colors only a terminal without NO_COLOR, unless forced", () => {
  assert.equal(
    resolveObserverConfig({ console: true }, "info", rt({}, true)).console?.colors,
    true,
  );
  assert.equal(
    resolveObserverConfig({ console: true }, "info", rt({}, false)).console?.colors,
    false,
  );
  assert.equal(
    resolveObserverConfig({ console: true }, "info", rt({ NO_COLOR: "1" }, true)).console?.colors,
    false,
  );
  assert.equal(
    resolveObserverConfig({ console: { colors: true } }, "info", rt()).console?.colors,
    true,
  );
});

Deno.test("resolveObserverConfig() uses the logger's level as the console threshold by default", () => {
  assert.equal(resolveObserverConfig({ console: true }, "warn", rt()).console?.minSeverity, 13);
  assert.equal(
    resolveObserverConfig({ console: { level: "error" } }, "info", rt()).console?.minSeverity,
    17,
  );
});

Deno.test("resolveObserverConfig() rejects bad console and metrics options with typed errors", () => {
  const bad: unknown[] = [
    { console: "yes" },
    { console: { format: "xml" } },
    { console: { level: "loud" } },
    { console: { stream: "stdlog" } },
    { console: { colors: "always" } },
    { console: { time: "utc" } },
    { metrics: "on" },
    { metrics: { module: "" } },
  ];
  for (const o of bad) {
    assert.throws(
      () => resolveObserverConfig(o as never, "info", rt()),
      TypeError,
      JSON.stringify(o),
    );
  }
  assert.throws(() => resolveServe({ serve: { port: 70000 } }), RangeError);
  assert.throws(() => resolveServe({ serve: { hostname: "" } }), TypeError);
});

Deno.test("resolveObserverConfig() turns metrics on for FLIGHTLOG_METRICS_MODULE; the option wins", () => {
  const env = rt({ FLIGHTLOG_METRICS_MODULE: "./m.ts" });
  assert.deepEqual(resolveObserverConfig({}, "info", env).metrics, { module: "resolved:./m.ts" });
  assert.deepEqual(
    resolveObserverConfig({ metrics: { module: "./x.ts" } }, "info", env).metrics,
    { module: "resolved:./x.ts" },
  );
  assert.deepEqual(resolveObserverConfig({ metrics: true }, "info", rt()).metrics, {
    module: null,
  });
  assert.equal(resolveObserverConfig({ metrics: false }, "info", env).metrics, null);
});

Deno.test("resolveServe() defaults to loopback port 9464", () => {
  assert.equal(resolveServe(true), null);
  assert.equal(resolveServe({}), null);
  assert.deepEqual(resolveServe({ serve: true }), { hostname: "127.0.0.1", port: 9464 });
  assert.deepEqual(resolveServe({ serve: { port: 0 } }), { hostname: "127.0.0.1", port: 0 });
});

Deno.test("metrics.serve answers /metrics on loopback until close()", async () => {
  await withDir(async (dir) => {
    const log = createLogger({
      dir,
      transport: "sab",
      metrics: { serve: { port: 0 } },
      exitHooks: false,
    });
    const url = log.metricsUrl();
    try {
      assert.match(url ?? "", /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      runFlow(log, "r1");
      const res = await fetch(url!);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      const text = await res.text();
      assert.match(text, /^flightlog_runs_total\{status="failed"\} 1$/m);
      assert.equal((await promtoolCheck(text)).code, 0);
      const other = await fetch(url!.replace("/metrics", "/"));
      assert.equal(other.status, 404);
      await other.body?.cancel();
    } finally {
      await log.close();
    }
    assert.equal(log.metricsUrl(), null);
    await assert.rejects(fetch(url!), TypeError);
  });
});

Deno.test("metrics.serve on a busy port throws a TypeError before starting anything", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    assert.throws(
      () => createLogger({ transport: "sab", metrics: { serve: { port } }, exitHooks: false }),
      {
        name: "TypeError",
        message: new RegExp(`Cannot serve /metrics on 127\\.0\\.0\\.1:${port}`),
      },
    );
  } finally {
    busy.close();
  }
  await Promise.resolve();
});
