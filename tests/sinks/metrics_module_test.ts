import assert from "node:assert/strict";
import { loadMetricsModule, metricsSinkOf } from "../../src/sinks/metrics_module.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).href;

Deno.test("metricsSinkOf() accepts METRICS with lifecycle callbacks", () => {
  const sink = { onStepEnd() {}, other: 1 };
  assert.equal(metricsSinkOf({ METRICS: sink }, "m.ts"), sink);
});

Deno.test("metricsSinkOf() says what is wrong with a module that is not a sink", () => {
  assert.throws(() => metricsSinkOf({}, "m.ts"), {
    name: "TypeError",
    message: /m\.ts must export METRICS/,
  });
  assert.throws(() => metricsSinkOf({ METRICS: 1 }, "m.ts"), /must export METRICS/);
  assert.throws(() => metricsSinkOf({ METRICS: {} }, "m.ts"), /has none of onRunStart/);
  assert.throws(
    () => metricsSinkOf({ METRICS: { onRunEnd: "x" } }, "m.ts"),
    /METRICS\.onRunEnd .* must be a function/,
  );
});

Deno.test("loadMetricsModule() imports a module's METRICS", async () => {
  const sink = await loadMetricsModule(fixture("recording_metrics.ts"));
  assert.equal(typeof sink.onStepEnd, "function");
});

Deno.test("loadMetricsModule() rejects with a TypeError for a missing or wrong module", async () => {
  await assert.rejects(loadMetricsModule(fixture("missing.ts")), {
    name: "TypeError",
    message: /Cannot import metrics module .*missing\.ts.*FLIGHTLOG_METRICS_MODULE/,
  });
  await assert.rejects(loadMetricsModule(fixture("no_metrics_export.ts")), /must export METRICS/);
});
