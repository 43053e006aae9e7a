import assert from "node:assert/strict";
import type { LogEvent, SpanNode } from "../../mod.ts";
import { withLogger } from "../support/test_logger.ts";
import { observeRun, summarizeError, WIDE_EVENTS } from "../../src/integrations/lifecycle.ts";
import { observable } from "../../src/integrations/observable.ts";
import type { MetricsSink } from "../../src/lifecycle_events.ts";
import { dispatchLifecycle } from "../../src/sinks/lifecycle_dispatch.ts";
import { getContext } from "../../src/front/context.ts";

const INLINE_DEBUG = { transport: "inline", level: "debug" } as const;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

// The flow of the issue: two jobs of three steps; one step fails in execute,
// one is skipped, one makes a provider call with tokens and cost.
Deno.test("observeRun() conformance: a flow of two jobs x three steps", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    let t = 1000;
    const now = () => t;
    let calls: string[] = [];
    const sink: MetricsSink = {
      onRunStart: (r) => calls.push(`run_start ${r.run_id}`),
      onRunEnd: (r, e) => calls.push(`run_end ${r.run_id} ${e.status} ${e.duration_ms}`),
      onJobStart: (j) => calls.push(`job_start ${j.job_id}`),
      onJobEnd: (j, e) => calls.push(`job_end ${j.job_id} ${e.status} ${e.duration_ms}`),
      onStepStart: (s) => calls.push(`step_start ${s.step_id} ${s.step_type}`),
      onStepEnd: (s, e) => calls.push(`step_end ${s.step_id} ${e.status} ${e.duration_ms}`),
    };
    const run = observeRun(log, { flow_id: "flow-c", run_id: "run-1", now, sink, wide: true });

    const ingest = run.job("ingest");
    t += 1;
    ingest.runStep("validate_input", { step_type: "tool" }, () => {
      t += 2;
    });
    const complete = observable(
      (prompt: string) => {
        t += 40;
        return Promise.resolve({
          text: prompt,
          usage: { prompt_tokens: 120, completion_tokens: 30 },
        });
      },
      {
        logger: log,
        node: "openai.chat",
        category: "llm.openai",
        now,
        provider: {
          name: "openai",
          model: "gpt-4o-mini",
          usage: (r) => ({
            input_tokens: r.usage.prompt_tokens,
            output_tokens: r.usage.completion_tokens,
            cost_usd: 0.0025,
          }),
        },
      },
    );
    await ingest.runStep("call_llm", { step_type: "llm", node: "openai.chat" }, async (step) => {
      step.logger.debug("prompt_built", { chars: 5 });
      await complete("hello");
    });
    ingest.step("notify", { step_type: "http" }).skip("no subscribers");
    t += 1;
    ingest.end();

    const publish = run.job("publish");
    publish.runStep("render", { step_type: "tool" }, () => {
      t += 5;
    });
    publish.runStep("package", { step_type: "tool" }, () => {
      t += 5;
    });
    const boom = Object.assign(new Error("upload refused: 503"), {
      code: "E_UPSTREAM",
      retryable: true,
    });
    await assert.rejects(
      publish.runStep("upload", { step_type: "http" }, async () => {
        t += 7;
        await Promise.resolve();
        throw boom;
      }),
      (e) => e === boom,
    );
    publish.end();
    t += 3;
    const summary = run.end();

    // The run summary.
    assert.equal(summary.status, "failed");
    assert.equal(summary.duration_ms, t - 1000);
    assert.deepEqual(summary.jobs, { total: 2, ok: 1, failed: 1, skipped: 0, cancelled: 0 });
    assert.deepEqual(summary.steps, { total: 6, ok: 4, failed: 1, skipped: 1, cancelled: 0 });
    assert.deepEqual(summary.job_summaries.map((j) => [j.job_id, j.status, j.duration_ms]), [
      ["ingest", "ok", 44],
      ["publish", "failed", 17],
    ]);
    assert.deepEqual(
      summary.step_durations.map((s) => [s.step_id, s.step_type, s.status, s.duration_ms]),
      [
        ["validate_input", "tool", "ok", 2],
        ["call_llm", "llm", "ok", 40],
        ["notify", "http", "skipped", 0],
        ["render", "tool", "ok", 5],
        ["package", "tool", "ok", 5],
        ["upload", "http", "failed", 7],
      ],
    );
    assert.equal(summary.failure?.job_id, "publish");
    assert.equal(summary.failure?.step_id, "upload");
    assert.equal(summary.failure?.phase, "execute");
    assert.equal(summary.failure?.time_to_failure_ms, 1 + 2 + 40 + 1 + 5 + 5 + 7);
    assert.deepEqual(
      { ...summary.failure?.error, stack: typeof summary.failure?.error.stack },
      {
        code: "E_UPSTREAM",
        type: "Error",
        message: "upload refused: 503",
        retryable: true,
        stack: "string",
      },
    );
    assert.deepEqual(summary.provider_usage, {
      provider_calls: 1,
      input_tokens: 120,
      output_tokens: 30,
      total_tokens: 150,
      cost_usd: 0.0025,
    });

    // The sink saw every start and end, in order, on this thread.
    assert.deepEqual(calls, [
      "run_start run-1",
      "job_start ingest",
      "step_start validate_input tool",
      "step_end validate_input ok 2",
      "step_start call_llm llm",
      "step_end call_llm ok 40",
      "step_start notify http",
      "step_end notify skipped 0",
      "job_end ingest ok 44",
      "job_start publish",
      "step_start render tool",
      "step_end render ok 5",
      "step_start package tool",
      "step_end package ok 5",
      "step_start upload http",
      "step_end upload failed 7",
      "job_end publish failed 17",
      `run_end run-1 failed ${t - 1000}`,
    ]);

    // The exact persisted event sequence.
    await log.flush();
    const flow = await log.getFlowLog("flow-c");
    const seq = flow.events.map((e) =>
      `${e.event}${
        e.fields.step_id ? ":" + e.fields.step_id : e.fields.job_id ? ":" + e.fields.job_id : ""
      }`
    );
    assert.deepEqual(seq, [
      "run_start",
      "job_start:ingest",
      "step_start:validate_input",
      "step_end:validate_input",
      "step_wide:validate_input",
      "step_start:call_llm",
      "prompt_built:call_llm",
      "node_entry:call_llm",
      "node_exit:call_llm",
      "step_end:call_llm",
      "step_wide:call_llm",
      "step_start:notify",
      "step_end:notify",
      "step_wide:notify",
      "job_end:ingest",
      "job_start:publish",
      "step_start:render",
      "step_end:render",
      "step_wide:render",
      "step_start:package",
      "step_end:package",
      "step_wide:package",
      "step_start:upload",
      "step_end:upload",
      "step_wide:upload",
      "job_end:publish",
      "run_end",
      "run_summary",
      "run_wide",
    ]);

    // The persisted events replay into the same sink callbacks in the worker
    // (src/sinks/lifecycle_dispatch.ts feeds FLIGHTLOG_METRICS_MODULE and Prometheus).
    const callerSide = calls;
    calls = [];
    for (const e of flow.events) dispatchLifecycle(e, sink);
    assert.deepEqual(calls, callerSide);

    // Correlation fields on every event.
    for (const e of flow.events) {
      const f = e.fields;
      assert.equal(f.flow_id, "flow-c", e.event);
      assert.equal(f.run_id, "run-1", e.event);
      assert.equal(f.trace_id, run.trace_id, e.event);
      assert.match(String(f.trace_id), HEX32);
      assert.match(String(f.span_id), HEX16, e.event);
      if (e.event.startsWith("job_") || f.step_id !== undefined) {
        assert.equal(typeof f.job_id, "string", e.event);
        assert.match(String(f.parent_id), HEX16, e.event);
      }
      if (e.event.startsWith("step_")) assert.equal(typeof f.step_type, "string", e.event);
    }
    const byEvent = (name: string, step?: string): LogEvent =>
      flow.events.find((e) =>
        e.event === name && (step === undefined || e.fields.step_id === step)
      )!;
    const failed = byEvent("step_end", "upload");
    assert.equal(failed.level, "error");
    assert.equal(failed.fields.phase, "execute");
    assert.equal((failed.fields.error as Record<string, unknown>).code, "E_UPSTREAM");
    assert.equal(byEvent("step_end", "notify").fields.status, "skipped");
    assert.equal(byEvent("step_end", "notify").fields.reason, "no subscribers");
    assert.equal(byEvent("job_end", "upload")?.fields.status, undefined);
    const jobEnd = flow.events.find((e) => e.event === "job_end" && e.fields.job_id === "publish")!;
    assert.deepEqual([jobEnd.fields.status, jobEnd.fields.failed_step_id, jobEnd.fields.phase], [
      "failed",
      "upload",
      "execute",
    ]);
    const runEnd = byEvent("run_end");
    assert.deepEqual([runEnd.fields.status, runEnd.fields.failed_step_id], ["failed", "upload"]);
    const exit = byEvent("node_exit");
    assert.deepEqual([exit.fields.provider, exit.fields.model, exit.fields.latency_ms], [
      "openai",
      "gpt-4o-mini",
      40,
    ]);
    assert.equal(exit.fields.parent_id, byEvent("step_start", "call_llm").fields.span_id);
    const stepWide = byEvent(WIDE_EVENTS.step, "call_llm").fields;
    assert.deepEqual([stepWide.job_id, stepWide.status, stepWide.total_tokens, stepWide.cost_usd], [
      "ingest",
      "ok",
      150,
      0.0025,
    ]);
    const runSummary = byEvent("run_summary").fields as Record<string, unknown>;
    assert.deepEqual(runSummary.steps, summary.steps);
    assert.deepEqual(runSummary.failure, summary.failure);

    // The span tree: run -> jobs -> steps -> the provider call's node span,
    // each with its kind, a step's type, and a skipped step as skipped.
    const shape = (n: SpanNode): unknown => [
      n.name,
      n.kind,
      n.step_type,
      n.status,
      n.children.map(shape),
    ];
    assert.deepEqual(flow.spans.map(shape), [
      ["run-1", "run", null, "error", [
        ["ingest", "job", null, "ok", [
          ["validate_input", "step", "tool", "ok", []],
          ["openai.chat", "step", "llm", "ok", [["openai.chat", "node", null, "ok", []]]],
          ["notify", "step", "http", "skipped", []],
        ]],
        ["publish", "job", null, "error", [
          ["render", "step", "tool", "ok", []],
          ["package", "step", "tool", "ok", []],
          ["upload", "step", "http", "error", []],
        ]],
      ]],
    ]);

    // Aggregates of the flow log.
    assert.equal(flow.summary.event_count, 29);
    assert.equal(flow.summary.error_count, 1);
    assert.equal(flow.summary.provider_calls, 1);
    assert.equal(flow.summary.input_tokens, 120);
    assert.equal(flow.summary.output_tokens, 30);
    assert.equal(flow.summary.total_tokens, 150);
    assert.equal(flow.summary.cost_usd, 0.0025);
    assert.equal(flow.summary.by_event.step_end, 6);
  });
});

Deno.test("observeRun() never surfaces a throwing sink, and counts it", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const sink: MetricsSink = {
      onRunStart() {
        throw new Error("sink down");
      },
      onStepEnd() {
        throw new Error("sink down");
      },
    };
    const run = observeRun(log, { flow_id: "f-sink", sink });
    run.job("j").step("s").end();
    assert.equal(run.end().status, "ok");
    assert.equal(run.sinkErrors, 2);
    await log.flush();
    const events = (await log.getFlowLog(run.flow_id)).events.map((e) => e.event);
    assert.deepEqual(events, [
      "run_start",
      "job_start",
      "step_start",
      "step_end",
      "job_end",
      "run_end",
      "run_summary",
    ]);
  });
});

Deno.test("RunObserver.end() cancels what is still open and derives statuses", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const run = observeRun(log, { flow_id: "f-open" });
    const a = run.job("a");
    a.step("left-open");
    const b = run.job("b");
    b.step("s1").skip();
    b.step("s2").skip();
    const summary = run.end();
    assert.deepEqual(summary.job_summaries.map((j) => [j.job_id, j.status]), [
      ["a", "cancelled"],
      ["b", "skipped"],
    ]);
    assert.equal(summary.status, "cancelled");
    assert.equal(run.end(), summary, "idempotent");
    assert.throws(() => run.job("late"), TypeError);
    await log.flush();
    const ends = (await log.getFlowLog("f-open")).events.filter((e) => e.event === "step_end");
    assert.deepEqual(ends.map((e) => e.fields.status), ["skipped", "skipped", "cancelled"]);
  });
});

Deno.test("StepObserver.fail() attributes the phase and fails its job and run whatever they ask", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const run = observeRun(log, { flow_id: "f-fail" });
    const job = run.job("j");
    job.step("check").fail(new TypeError("bad input"), { phase: "validate" });
    job.step("lookup").fail(Object.assign(new Error("no such tool"), { phase: "resolve" }));
    job.step("x").fail("a string", { retryable: true });
    assert.equal(job.end("ok").status, "failed");
    const summary = run.end("ok");
    assert.equal(summary.status, "failed");
    assert.equal(summary.failure?.step_id, "check");
    assert.equal(summary.failure?.phase, "validate");
    assert.equal(summary.failure?.error.type, "TypeError");
    await log.flush();
    const flow = await log.getFlowLog("f-fail");
    const ends = flow.events.filter((e) => e.event === "step_end");
    assert.deepEqual(ends.map((e) => e.fields.phase), ["validate", "resolve", "execute"]);
    assert.deepEqual((ends[2]!.fields.error as Record<string, unknown>).retryable, true);
    assert.throws(() => job.step("late"), TypeError);
  });
});

Deno.test("observeRun() continues a traceparent and binds the step context for the flow's own logs", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const run = observeRun(log, {
      flow_id: "f-tp",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "vendor=1",
    });
    assert.equal(run.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(run.parent_id, "00f067aa0ba902b7");
    const job = run.job("j");
    const ctx = await job.runStep("s", { step_type: "tool" }, async (step) => {
      await Promise.resolve();
      return { ...getContext(), span: step.span_id } as Record<string, unknown>;
    });
    assert.equal(ctx.flow_id, "f-tp");
    assert.equal(ctx.job_id, "j");
    assert.equal(ctx.step_id, "s");
    assert.equal(ctx.span_id, ctx.span);
    assert.equal(ctx.trace_id, run.trace_id);
    run.end();
    await log.flush();
    const start = (await log.getFlowLog("f-tp")).events[0]!;
    assert.deepEqual([start.event, start.fields.parent_id, start.fields.tracestate], [
      "run_start",
      "00f067aa0ba902b7",
      "vendor=1",
    ]);
  });
});

Deno.test("observeRun() refuses bad options with a TypeError", async () => {
  await withLogger(INLINE_DEBUG, (log) => {
    assert.throws(() => observeRun(log, {} as { flow_id: string }), /flow_id/);
    assert.throws(() => observeRun(log, { flow_id: "f", run_id: "" }), /run_id/);
    const step = observeRun(log, { flow_id: "f" }).job("j").step("s");
    assert.throws(() => step.end("done" as "ok"), /Invalid status/);
    return Promise.resolve();
  });
});

Deno.test("summarizeError() summarizes anything thrown", () => {
  assert.deepEqual(summarizeError("oops"), {
    code: null,
    type: "string",
    message: "oops",
    retryable: false,
    stack: null,
  });
  assert.equal(summarizeError(null).message, "null");
  assert.equal(summarizeError({ name: "Custom", message: "m", code: 7 }).code, 7);
});

Deno.test("RunObserver.within() and JobObserver.within() bind the run's and job's correlation", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const run = observeRun(log, { flow_id: "f-within", run_id: "r-w" });
    const job = run.job("j-w");
    await run.within(async () => {
      await Promise.resolve();
      log.info("in_run");
    });
    job.within(() => log.info("in_job"));
    job.end();
    run.end();
    await log.flush();
    const events = (await log.getFlowLog("f-within")).events;
    const inRun = events.find((e) => e.event === "in_run")!;
    const inJob = events.find((e) => e.event === "in_job")!;
    assert.deepEqual([inRun.fields.run_id, inRun.fields.span_id, inRun.fields.job_id], [
      "r-w",
      run.span_id,
      undefined,
    ]);
    assert.deepEqual([inJob.fields.job_id, inJob.fields.span_id, inJob.fields.parent_id], [
      "j-w",
      job.span_id,
      run.span_id,
    ]);
  });
});
