import assert from "node:assert/strict";
import {
  formatTraceParent,
  isSpanId,
  isTraceId,
  newSpanId,
  newTraceId,
  parseTraceParent,
} from "../src/trace_context.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN = "00f067aa0ba902b7";

Deno.test("newTraceId() and newSpanId() make OpenTelemetry-shaped, distinct ids", () => {
  const traces = new Set<string>();
  const spans = new Set<string>();
  for (let i = 0; i < 1000; i++) {
    const t = newTraceId();
    const s = newSpanId();
    assert.ok(isTraceId(t), t);
    assert.ok(isSpanId(s), s);
    traces.add(t);
    spans.add(s);
  }
  assert.equal(traces.size, 1000);
  assert.equal(spans.size, 1000);
});

Deno.test("parseTraceParent() accepts a valid header and keeps tracestate", () => {
  assert.deepEqual(
    parseTraceParent(`00-${TRACE}-${SPAN}-01`, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
    {
      trace_id: TRACE,
      parent_id: SPAN,
      sampled: true,
      tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    },
  );
  assert.equal(parseTraceParent(`00-${TRACE}-${SPAN}-00`)?.sampled, false);
  // A future version may append fields.
  assert.equal(parseTraceParent(`01-${TRACE}-${SPAN}-01-extra`)?.trace_id, TRACE);
});

Deno.test("parseTraceParent() refuses invalid headers (a new trace starts)", () => {
  for (
    const bad of [
      undefined,
      null,
      "",
      `ff-${TRACE}-${SPAN}-01`,
      `00-${"0".repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${"0".repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `00-${TRACE.slice(1)}-${SPAN}-01`,
      `00_${TRACE}_${SPAN}_01`,
    ]
  ) {
    assert.equal(parseTraceParent(bad), null, String(bad));
  }
});

Deno.test("parseTraceParent() drops an invalid tracestate, not the trace", () => {
  const tooMany = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",");
  for (const bad of ["no-equals", "a=1,a=2", tooMany, "UPPER=1"]) {
    const tp = parseTraceParent(`00-${TRACE}-${SPAN}-01`, bad);
    assert.equal(tp?.trace_id, TRACE);
    assert.equal(tp?.tracestate, "", bad);
  }
});

Deno.test("formatTraceParent() round-trips through parseTraceParent() and refuses bad ids", () => {
  const t = newTraceId();
  const s = newSpanId();
  const tp = parseTraceParent(formatTraceParent(t, s));
  assert.deepEqual([tp?.trace_id, tp?.parent_id, tp?.sampled], [t, s, true]);
  assert.throws(() => formatTraceParent("abc", s), TypeError);
  assert.throws(() => formatTraceParent(t, "0".repeat(16)), TypeError);
});
