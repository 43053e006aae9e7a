/**
 * Demo: a small agent flow written with the lifecycle API — one run, two
 * jobs, five steps (one fails, one is skipped), its model and search calls
 * wrapped with `observable()` so the model calls' tokens and cost are counted
 * — logged to the embedded default store (`./.flightlog`). Then its flow log
 * printed as a span tree with a summary, and the measured caller cost of a
 * log call.
 *
 * Run: `npx deno task demo`; look again with
 * `npx deno task cli show .flightlog <flow>` or
 * `npx deno task cli view .flightlog <flow> -o timeline.html`.
 *
 * @module
 */
import { createLogger, type FlowLog, observable, observeRun, type SpanNode } from "../mod.ts";

const log = createLogger();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Stand-ins for a model client and a search API. Each observable() call is a
// node span inside the step that makes it; `provider.usage` reports a model
// call's tokens and cost, which the run summary and the flow log's summary add up.
const PRICE_PER_1K_TOKENS = { input: 0.00015, output: 0.0006 }; // USD
const complete = observable(
  async (prompt: string) => {
    await sleep(20);
    const text = `${prompt}: ${"flight recorders keep the last minutes of a flow. ".repeat(6)}`;
    return { text, usage: { input: 12 * prompt.length, output: Math.ceil(text.length / 4) } };
  },
  {
    logger: log,
    node: "llm.complete",
    category: "llm",
    provider: {
      name: "demo-llm",
      model: "small-1",
      usage: ({ usage }) => ({
        input_tokens: usage.input,
        output_tokens: usage.output,
        cost_usd: (usage.input * PRICE_PER_1K_TOKENS.input +
          usage.output * PRICE_PER_1K_TOKENS.output) / 1000,
      }),
    },
  },
);
const search = observable(
  async (query: string) => {
    await sleep(35);
    return [1, 2, 3].map((n) => `https://example.invalid/${n}?q=${encodeURIComponent(query)}`);
  },
  { logger: log, node: "web.search", category: "http" },
);

function checkLength(text: string, max: number): void {
  if (text.length > max) {
    throw Object.assign(new RangeError(`summary exceeds ${max} characters (${text.length})`), {
      code: "E_TOO_LONG",
    });
  }
}

async function runFlow(flowId: string) {
  const run = observeRun(log, { flow_id: flowId }); // run_start; ids are made for you

  const research = run.job("research");
  await research.runStep("plan", { step_type: "llm" }, () => complete("plan a post"));
  const hits = await research.runStep("search", { step_type: "http" }, () => search("blackbox"));
  const draft = await research.runStep(
    "summarize",
    { step_type: "llm" },
    () => complete(`summarize ${hits.length} pages`),
  );
  research.end();

  const publish = run.job("publish");
  let valid = false;
  try {
    publish.runStep("validate", { step_type: "tool" }, () => checkLength(draft.text, 280));
    valid = true;
  } catch {
    // runStep ended the step failed (error, phase, stack) before rethrowing.
  }
  if (valid) await publish.runStep("post", { step_type: "http" }, () => sleep(10));
  else publish.step("post", { step_type: "http" }).skip("validate failed");
  publish.end(); // failed: a failed step fails its job and its run
  return run.end(); // run_end and run_summary (tokens and cost of the run's steps)
}

/**
 * Caller cost of one info call with seven correlation fields and two fields,
 * in ns: the median of 50 batches of 1,000 after 50 warm-up batches (the
 * JIT compiles meanwhile), on a logger of its own in a temporary directory so
 * the probe's 100,000 events stay out of the demo's store.
 */
async function measureOverhead(traceId: string): Promise<number> {
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
    const n = 1000; // stays well inside the default 16 MiB ring, so no event is dropped
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
  const marks = {
    ok: paint(32, "✓ ok"),
    error: paint(31, "✗ failed"),
    skipped: paint(33, "↷ skipped"),
    cancelled: paint(35, "⊘ cancelled"),
  };
  const walk = (span: SpanNode, depth: number) => {
    const indent = "  ".repeat(depth);
    const kind = span.step_type === null ? span.kind : `${span.kind}: ${span.step_type}`;
    console.log(
      `${indent}${span.name} (${kind})  ${marks[span.status]}  ${span.duration_ms.toFixed(1)} ms`,
    );
    const failure = span.events.map((i) => flow.events[i]!).find((e) => e.fields.error);
    if (span.kind === "step" && failure !== undefined) {
      const error = failure.fields.error as { code?: string; message?: string };
      console.log(
        `${indent}  ${
          paint(31, `error ${error.code}: ${error.message}`)
        } (phase ${failure.fields.phase})`,
      );
    }
    for (const child of span.children) walk(child, depth + 1);
  };
  for (const root of flow.spans) walk(root, 0);
}

const flowId = `demo-agent-${Date.now().toString(36)}`;
const summary = await runFlow(flowId);
const overheadNs = await measureOverhead(summary.trace_id);
await log.flush();
const flow = await log.getFlowLog(flowId);

console.log(`flow ${flowId}  run ${summary.run_id}  (store: ./.flightlog)\n`);
printTree(flow);
const s = flow.summary;
console.log(
  `\nsummary: ${s.event_count} events over ${s.duration_ms.toFixed(1)} ms, ${s.error_count} error${
    s.error_count === 1 ? "" : "s"
  }; by level ${JSON.stringify(s.by_level)}`,
);
console.log(
  `provider calls: ${s.provider_calls}, tokens: ${s.total_tokens} (${s.input_tokens} in, ${s.output_tokens} out), cost: $${
    s.cost_usd.toFixed(6)
  }`,
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
