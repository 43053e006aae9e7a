/**
 * Demo: a small agent flow (two jobs, five steps: one fails, one is skipped)
 * logged to the embedded default store (`./.flightlog`), then its flow log
 * printed as a span tree with a summary, and the measured per-event cost of
 * a log call.
 *
 * Run: `npx deno task demo`
 *
 * @module
 */
import { createLogger, type FlowLog, type Logger, type SpanNode } from "../mod.ts";

const log = createLogger({ level: "debug" });
const flowId = `demo-agent-${Date.now().toString(36)}`;
const runId = `r-${crypto.randomUUID().slice(0, 8)}`;
const traceId = hex(16);

function hex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Status = "ok" | "failed" | "skipped";

async function step(
  job: Logger,
  parent: string,
  stepId: string,
  stepType: string,
  work: () => Promise<Record<string, unknown>>,
  skip = false,
): Promise<Status> {
  const spanId = hex(8);
  const s = job.child({ step_id: stepId, step_type: stepType, span_id: spanId, parent_id: parent });
  s.info("step_start");
  const t0 = performance.now();
  if (skip) {
    s.info("step_end", { status: "skipped", reason: "previous step failed", duration_ms: 0 });
    return "skipped";
  }
  try {
    const out = await work();
    s.info("step_end", { status: "ok", duration_ms: performance.now() - t0, ...out });
    return "ok";
  } catch (err) {
    s.error("step_end", {
      status: "failed",
      phase: "execute",
      duration_ms: performance.now() - t0,
      error: err,
    });
    return "failed";
  }
}

async function runFlow(): Promise<void> {
  const runSpan = hex(8);
  const run = log.child({ flow_id: flowId, run_id: runId, trace_id: traceId });
  const r = run.child({ span_id: runSpan, node: "run" });
  r.info("run_start", { mode: "demo" });
  const t0 = performance.now();

  const researchSpan = hex(8);
  const research = run.child({ job_id: "research", span_id: researchSpan, parent_id: runSpan });
  research.info("job_start");
  const j0 = performance.now();
  await step(research, researchSpan, "plan", "llm", async () => {
    await sleep(20);
    return { model: "small-1", tokens_in: 412, tokens_out: 96, cost_usd: 0.0004 };
  });
  await step(research, researchSpan, "search", "http", async () => {
    await sleep(35);
    return { url: "https://example.invalid/search?q=flight+recorders", http_status: 200 };
  });
  await step(research, researchSpan, "summarize", "llm", async () => {
    await sleep(25);
    return { model: "small-1", tokens_in: 1830, tokens_out: 240, cost_usd: 0.0019 };
  });
  research.info("job_end", { status: "ok", duration_ms: performance.now() - j0 });

  const publishSpan = hex(8);
  const publish = run.child({ job_id: "publish", span_id: publishSpan, parent_id: runSpan });
  publish.info("job_start");
  const p0 = performance.now();
  const validated = await step(publish, publishSpan, "validate", "tool", async () => {
    await sleep(10);
    throw Object.assign(new Error("summary exceeds 280 characters"), { code: "E_TOO_LONG" });
  });
  await step(publish, publishSpan, "post", "http", () => Promise.resolve({}), validated !== "ok");
  publish.error("job_end", {
    status: "failed",
    failed_step: "validate",
    duration_ms: performance.now() - p0,
  });
  r.error("run_end", { status: "failed", duration_ms: performance.now() - t0 });
}

/**
 * Caller cost of one info call with seven correlation fields and two fields,
 * in ns: the median of 50 batches of 1,000 after 50 warm-up batches (the
 * JIT compiles meanwhile), on a logger of its own in a temporary directory so
 * the probe's 100,000 events stay out of the demo's store.
 */
async function measureOverhead(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-demo-probe-" });
  const probeLog = createLogger({ dir });
  try {
    const probe = probeLog.child({
      flow_id: "demo-overhead-probe",
      run_id: "r-probe",
      job_id: "j",
      step_id: "s",
      step_type: "llm",
      node: "llm.call",
      trace_id: traceId,
    });
    const perBatch: number[] = [];
    const n = 1000; // stays well inside the 1 MiB ring, so no event is dropped
    for (let b = 0; b < 100; b++) {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) probe.info("tick", { duration_ms: i + 0.5, status: "ok" });
      if (b >= 50) perBatch.push(((performance.now() - t0) * 1e6) / n);
      await probeLog.flush();
    }
    perBatch.sort((a, b) => a - b);
    return perBatch[Math.floor(perBatch.length / 2)]!;
  } finally {
    await probeLog.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function printTree(flow: FlowLog): void {
  const color = Deno.stdout.isTerminal();
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const walk = (span: SpanNode, depth: number) => {
    const first = flow.events[span.events[0]!]!;
    const last = flow.events[span.events[span.events.length - 1]!]!;
    const status = String(last.fields.status ?? (span.status === "error" ? "failed" : "ok"));
    const mark = status === "failed"
      ? paint(31, "✗ failed")
      : status === "skipped"
      ? paint(33, "↷ skipped")
      : paint(32, "✓ ok");
    const kind = first.fields.step_type ? ` (${first.fields.step_type})` : "";
    console.log(
      `${"  ".repeat(depth)}${span.name}${kind}  ${mark}  ${span.duration_ms.toFixed(1)} ms`,
    );
    const err = flow.events.find((e, i) => span.events.includes(i) && e.fields.error !== undefined);
    if (err) {
      const e = err.fields.error as { message?: string; code?: string };
      console.log(
        `${"  ".repeat(depth + 1)}${
          paint(31, `error ${e.code ?? ""}: ${e.message ?? ""}`)
        } (phase ${err.fields.phase})`,
      );
    }
    for (const child of span.children) walk(child, depth + 1);
  };
  for (const root of flow.spans) walk(root, 0);
}

await runFlow();
const overheadNs = await measureOverhead();
await log.flush();
const flow = await log.getFlowLog(flowId);

console.log(`flow ${flowId}  run ${runId}  (store: ./.flightlog)\n`);
printTree(flow);
const s = flow.summary;
console.log(
  `\nsummary: ${s.event_count} events over ${
    s.duration_ms.toFixed(1)
  } ms, ${s.error_count} errors; by level ${JSON.stringify(s.by_level)}`,
);
console.log(`events: ${Object.entries(s.by_event).map(([k, v]) => `${k}×${v}`).join(", ")}`);
const stats = log.stats();
console.log(
  `\nlogger: mode=${stats.mode} emitted=${stats.emitted} persisted=${stats.persisted} dropped=${stats.dropped}`,
);
console.log(
  `caller cost per event (info, 7 correlation fields + 2, median of 50 batches after 50 warm-up): ${
    overheadNs.toFixed(0)
  } ns`,
);
await log.close();
