import assert from "node:assert/strict";
import { FlowMetrics } from "../../src/sinks/flow_metrics.ts";
import type { LogEvent } from "../../src/event.ts";
import type { MetricsSink } from "../../src/lifecycle_events.ts";
import { promtoolCheck } from "../support/promtool.ts";
import { makeEvent } from "../support/log_event.ts";

let seq = 0;
function ev(
  event: string,
  fields: Record<string, unknown>,
  level: LogEvent["level"] = "info",
): LogEvent {
  return makeEvent(0, fields, { event, level, producer: "p.0", seq: ++seq });
}

const RUN = { flow_id: "f", run_id: "r" };
const JOB = { ...RUN, job_id: "j" };

function flow(): LogEvent[] {
  return [
    ev("run_start", RUN),
    ev("job_start", JOB),
    ev("step_start", { ...JOB, step_id: "a", step_type: "llm" }),
    ev("step_end", { ...JOB, step_id: "a", step_type: "llm", status: "ok", duration_ms: 800 }),
    ev("step_end", { ...JOB, step_id: "b", step_type: "http", status: "failed", duration_ms: 30 }),
    ev("step_end", { ...JOB, step_id: "c", status: "skipped", duration_ms: 0 }),
    ev("retry", { ...JOB }, "warn"),
    ev("job_end", { ...JOB, status: "failed", duration_ms: 900 }),
    ev("run_end", { ...RUN, status: "failed", duration_ms: 1000 }),
    ev("step_end", { ...JOB, step_id: "d" }, "error"),
  ];
}

Deno.test("FlowMetrics counts runs, jobs and steps by status, durations, events by level", async () => {
  const m = new FlowMetrics();
  m.observe(flow());
  const text = m.render({ dropped: 7, rings: [{ producer: "p.0", used: 256, capacity: 1024 }] });
  const expect = [
    'flightlog_runs_total{status="failed"} 1',
    "flightlog_runs_active 0",
    'flightlog_run_duration_seconds_bucket{status="failed",le="1"} 1',
    'flightlog_run_duration_seconds_bucket{status="failed",le="0.5"} 0',
    'flightlog_run_duration_seconds_count{status="failed"} 1',
    'flightlog_jobs_total{status="failed"} 1',
    'flightlog_steps_total{step_type="llm",status="ok"} 1',
    'flightlog_steps_total{step_type="http",status="failed"} 1',
    'flightlog_steps_total{step_type="none",status="skipped"} 1',
    'flightlog_step_duration_seconds_sum{step_type="llm"} 0.8',
    'flightlog_step_duration_seconds_bucket{step_type="http",le="0.05"} 1',
    'flightlog_events_total{level="info"} 8',
    'flightlog_events_total{level="warn"} 1',
    'flightlog_events_total{level="error"} 1',
    "flightlog_dropped_events_total 7",
    'flightlog_ring_fill_ratio{producer="p.0"} 0.25',
    'flightlog_lifecycle_malformed_total{event="step_end"} 1',
    "flightlog_metrics_sink_errors_total 0",
  ];
  for (const line of expect) {
    assert.ok(text.split("\n").includes(line), `missing: ${line}\n${text}`);
  }
  const check = await promtoolCheck(text);
  assert.equal(check.output, "");
  assert.equal(check.code, 0);
});

Deno.test("FlowMetrics feeds an extra sink with the same callbacks and counts its errors", () => {
  const m = new FlowMetrics();
  const ended: string[] = [];
  const sink: MetricsSink = {
    onStepEnd: (s, e) => ended.push(`${s.step_id}:${e.status}`),
    onRunStart() {
      throw new Error("sink bug");
    },
  };
  m.setExtraSink(sink);
  m.observe(flow());
  assert.deepEqual(ended, ["a:ok", "b:failed", "c:skipped"]);
  assert.match(m.render({ dropped: 0, rings: [] }), /^flightlog_metrics_sink_errors_total 1$/m);
});

Deno.test("FlowMetrics keeps runs_active at 0 for a run that ended without a seen start", () => {
  const m = new FlowMetrics();
  m.observe([ev("run_end", { ...RUN, status: "ok", duration_ms: 1 })]);
  m.observe([ev("run_start", RUN)]);
  assert.match(m.render({ dropped: 0, rings: [] }), /^flightlog_runs_active 1$/m);
});

Deno.test("FlowMetrics used as a MetricsSink directly counts like observe()", () => {
  const direct = new FlowMetrics();
  direct.onRunStart(RUN);
  direct.onStepEnd({ ...JOB, step_id: "a", step_type: "llm" }, { status: "ok", duration_ms: 800 });
  direct.onJobEnd(JOB, { status: "ok", duration_ms: 900 });
  direct.onRunEnd(RUN, { status: "ok", duration_ms: 1000 });
  const observed = new FlowMetrics();
  observed.observe([
    ev("run_start", RUN),
    ev("step_end", { ...JOB, step_id: "a", step_type: "llm", status: "ok", duration_ms: 800 }),
    ev("job_end", { ...JOB, status: "ok", duration_ms: 900 }),
    ev("run_end", { ...RUN, status: "ok", duration_ms: 1000 }),
  ]);
  const strip = (t: string) => t.split("\n").filter((l) => !l.startsWith("flightlog_events_total"));
  assert.deepEqual(
    strip(direct.render({ dropped: 0, rings: [] })),
    strip(observed.render({ dropped: 0, rings: [] })),
  );
});
