/**
 * Trace context joins up as the official OpenTelemetry SDK joins it: the
 * same calls are made through flightlog's public API and through the SDK
 * (`tests/support/otel_sdk.ts`), both OTLP requests are decoded against the
 * official definitions, and their trees (parents, trace, flags, trace state,
 * status), log record links and outgoing headers must be the same.
 */
import assert from "node:assert/strict";
import {
  contextFromHeaders,
  createLogger,
  getTraceHeaders,
  type LogEvent,
  type Logger,
  observable,
  observeRun,
  toOtlpLogs,
  toOtlpTraces,
  withContext,
} from "../../mod.ts";
import { decodeOtlpRequest } from "../support/otlp_schema.ts";
import { headerLink, logLinks, OtelReference, traceTree } from "../support/otel_sdk.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER = "00f067aa0ba902b7";
const SAMPLED = { traceparent: `00-${TRACE}-${CALLER}-01`, tracestate: "congo=t61rcWkgMzE" };
const UNSAMPLED = { traceparent: `00-${TRACE}-${CALLER}-00`, tracestate: "rojo=00f067aa0ba902b7" };

const utf8 = new TextEncoder();

/** flightlog's OTLP requests for a flow's events, decoded against the official definitions. */
function exported(events: LogEvent[]) {
  return {
    traces: decodeOtlpRequest("traces", utf8.encode(JSON.stringify(toOtlpTraces(events)))),
    logs: decodeOtlpRequest("logs", utf8.encode(JSON.stringify(toOtlpLogs(events)))),
  };
}

async function withLog<T>(fn: (log: Logger) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir();
  const log = createLogger({ dir, transport: "inline" });
  try {
    return await fn(log);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A run of one job: step "fetch" logs "work", reads the outgoing headers and
 * calls an observable node "call"; step "notify" is skipped.
 */
async function flightlogRun(headers: Partial<typeof SAMPLED>) {
  return await withLog(async (log) => {
    const call = observable(async () => {}, { logger: log, node: "call" });
    const run = observeRun(log, { flow_id: "f-run", run_id: "r-1", ...headers });
    const job = run.job("j");
    let outgoing = {};
    await job.runStep("fetch", {}, async () => {
      log.info("work");
      outgoing = getTraceHeaders();
      await call();
    });
    job.step("notify").skip("no subscribers");
    job.end();
    run.end();
    await log.flush();
    return { ...exported((await log.getFlowLog("f-run")).events), outgoing };
  });
}

/** The same calls on the SDK: `skipped` and `ok` end with status OK, the node sets none. */
function sdkRun(headers: Partial<typeof SAMPLED>) {
  const ref = new OtelReference();
  const run = ref.start("r-1", ref.extract(headers as Record<string, string>));
  const job = ref.start("j", run.ctx);
  const fetch = ref.start("fetch", job.ctx);
  ref.log("work", fetch.ctx);
  const outgoing = ref.inject(fetch.ctx);
  ref.start("call", fetch.ctx).span.end();
  ref.endOk(fetch);
  ref.endOk(ref.start("notify", job.ctx));
  ref.endOk(job);
  ref.endOk(run);
  return { traces: ref.traces(), logs: ref.logs(), outgoing };
}

/**
 * The README's request handler: `withContext({ ...contextFromHeaders(headers),
 * flow_id }, fn)` logs "request", reads the outgoing headers, calls an
 * observable node "call", and observes a run "r-h" of one step.
 */
async function flightlogHandler(headers: typeof SAMPLED) {
  return await withLog(async (log) => {
    const call = observable(async () => {}, { logger: log, node: "call" });
    let outgoing = {};
    await withContext(
      { ...contextFromHeaders(new Headers(headers)), flow_id: "f-h" },
      async () => {
        await Promise.resolve();
        log.info("request", { path: "/" });
        outgoing = getTraceHeaders();
        await call();
        const run = observeRun(log, { flow_id: "f-h", run_id: "r-h" });
        run.job("j").runStep("s", {}, () => {});
        run.end();
      },
    );
    await log.flush();
    return { ...exported((await log.getFlowLog("f-h")).events), outgoing };
  });
}

function sdkHandler(headers: typeof SAMPLED) {
  const ref = new OtelReference();
  const incoming = ref.extract(headers);
  ref.log("request", incoming);
  const outgoing = ref.inject(incoming);
  ref.start("call", incoming).span.end();
  const run = ref.start("r-h", incoming);
  const job = ref.start("j", run.ctx);
  ref.endOk(ref.start("s", job.ctx));
  ref.endOk(job);
  ref.endOk(run);
  return { traces: ref.traces(), logs: ref.logs(), outgoing };
}

Deno.test("observeRun() without a traceparent exports a root run span, as the SDK's root span", async () => {
  const ours = await flightlogRun({});
  const theirs = sdkRun({});
  const run = traceTree(ours.traces).find((s) => s.name === "r-1")!;
  assert.deepEqual([run.parent, run.flags], [null, 257]);
  assert.deepEqual(traceTree(ours.traces), traceTree(theirs.traces));
  assert.deepEqual(
    logLinks(ours.logs, ours.traces, ["work"]),
    logLinks(theirs.logs, theirs.traces, ["work"]),
  );
  assert.deepEqual(headerLink(ours.outgoing, ours.traces), { traceparent: "00-new-fetch-01" });
});

Deno.test("observeRun() continuing a remote parent exports the SDK's flags and traceState", async () => {
  for (const headers of [SAMPLED, UNSAMPLED]) {
    const ours = await flightlogRun(headers);
    const theirs = sdkRun(headers);
    const tree = traceTree(ours.traces, TRACE);
    const sampled = headers === SAMPLED ? 1 : 0;
    // SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK 0x100, SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK 0x200.
    assert.deepEqual(
      tree.map((s) => [s.name, s.parent, s.flags, s.traceState]),
      [
        ["call", "fetch", 0x100 | sampled, headers.tracestate],
        ["fetch", "j", 0x100 | sampled, headers.tracestate],
        ["j", "r-1", 0x100 | sampled, headers.tracestate],
        ["notify", "j", 0x100 | sampled, headers.tracestate],
        ["r-1", CALLER, 0x300 | sampled, headers.tracestate],
      ],
    );
    assert.deepEqual(tree, traceTree(theirs.traces, TRACE), headers.traceparent);
    assert.deepEqual(
      logLinks(ours.logs, ours.traces, ["work"], TRACE),
      logLinks(theirs.logs, theirs.traces, ["work"], TRACE),
    );
    // Outgoing calls keep the caller's sampled flag and trace state.
    assert.deepEqual(
      headerLink(ours.outgoing, ours.traces, TRACE),
      headerLink(theirs.outgoing, theirs.traces, TRACE),
    );
    assert.deepEqual(headerLink(ours.outgoing, ours.traces, TRACE), {
      traceparent: `00-incoming-fetch-0${sampled}`,
      tracestate: headers.tracestate,
    });
  }
});

Deno.test("getTraceHeaders() in withContext(contextFromHeaders()) passes the caller's trace on, as the SDK's propagator", async () => {
  for (const headers of [SAMPLED, UNSAMPLED]) {
    const ours = await flightlogHandler(headers);
    const theirs = sdkHandler(headers);
    assert.deepEqual(ours.outgoing, theirs.outgoing);
    assert.deepEqual(ours.outgoing, headers);
  }
});

Deno.test("a log record made in withContext(contextFromHeaders()) joins the caller's span, as the SDK's", async () => {
  for (const headers of [SAMPLED, UNSAMPLED]) {
    const ours = await flightlogHandler(headers);
    const theirs = sdkHandler(headers);
    const links = logLinks(ours.logs, ours.traces, ["request"], TRACE);
    assert.deepEqual(links, logLinks(theirs.logs, theirs.traces, ["request"], TRACE));
    assert.deepEqual(links, [{
      name: "request",
      trace: "incoming",
      span: CALLER,
      flags: headers === SAMPLED ? 1 : 0,
    }]);
  }
});

Deno.test("observable() and observeRun() in withContext(contextFromHeaders()) continue the caller's trace, as the SDK's spans", async () => {
  for (const headers of [SAMPLED, UNSAMPLED]) {
    const ours = await flightlogHandler(headers);
    const theirs = sdkHandler(headers);
    const tree = traceTree(ours.traces, TRACE);
    assert.deepEqual(tree, traceTree(theirs.traces, TRACE), headers.traceparent);
    const sampled = headers === SAMPLED ? 1 : 0;
    assert.deepEqual(tree.map((s) => [s.name, s.parent, s.flags]), [
      ["call", CALLER, 0x300 | sampled],
      ["j", "r-h", 0x100 | sampled],
      ["r-h", CALLER, 0x300 | sampled],
      ["s", "j", 0x100 | sampled],
    ]);
  }
});

Deno.test("toOtlpTraces() exports a skipped step as OK and a cancelled one as UNSET", async () => {
  const ours = await withLog(async (log) => {
    const run = observeRun(log, { flow_id: "f-s", run_id: "r-s" });
    const job = run.job("j");
    job.step("notify").skip("no subscribers");
    job.step("open");
    run.end(); // cancels "open"
    await log.flush();
    return exported((await log.getFlowLog("f-s")).events).traces;
  });
  const spans = ours.resourceSpans[0].scopeSpans[0].spans;
  // deno-lint-ignore no-explicit-any
  const status = (name: string) => spans.find((s: any) => s.name === name);
  // SKIPPED is an outcome, not a failure: OK; flightlog.status says which outcome.
  assert.deepEqual(status("notify").status, { code: 1 });
  assert.deepEqual(
    // deno-lint-ignore no-explicit-any
    status("notify").attributes.find((a: any) => a.key === "flightlog.status").value,
    { stringValue: "skipped" },
  );
  assert.deepEqual(status("open").status, { code: 0 });
  assert.deepEqual(status("j").status, { code: 0 }, "a cancelled step cancels its job");
});
