import assert from "node:assert/strict";
import { escapeLabelValue, formatSampleValue, Registry } from "../../src/sinks/prometheus.ts";
import { promtoolCheck } from "../support/promtool.ts";

Deno.test("Registry.render() passes promtool check metrics, hostile label values included", async () => {
  const reg = new Registry();
  const c = reg.counter("t_requests_total", 'Requests, "quoted" \\ help\nsecond line.', [
    "path",
    "code",
  ]);
  const g = reg.gauge("t_queue_ratio", "Queue fill.");
  const h = reg.histogram("t_latency_seconds", "Latency.", ["route"], [0.01, 0.1, 1]);
  c.inc(["/a", "200"]);
  c.inc(['/b"\\\n} evil_total 1e9 {', "500"], 3);
  g.set([], 0.5);
  h.observe(["x\ny"], 0.05);
  h.observe(["x\ny"], 5);
  const text = reg.render();
  const check = await promtoolCheck(text);
  assert.equal(check.output, "");
  assert.equal(check.code, 0);
  assert.match(
    text,
    /^t_requests_total\{path="\/b\\"\\\\\\n\} evil_total 1e9 \{",code="500"\} 3$/m,
  );
  assert.match(text, /^# HELP t_requests_total Requests, "quoted" \\\\ help\\nsecond line\.$/m);
});

Deno.test("Histogram.render() writes cumulative buckets, +Inf, _sum and _count", () => {
  const reg = new Registry();
  const h = reg.histogram("t_d_seconds", "D.", [], [1, 2, 5]);
  for (const v of [0.5, 1, 1.5, 3, 10, NaN]) h.observe([], v);
  assert.equal(
    reg.render(),
    [
      "# HELP t_d_seconds D.",
      "# TYPE t_d_seconds histogram",
      't_d_seconds_bucket{le="1"} 2',
      't_d_seconds_bucket{le="2"} 3',
      't_d_seconds_bucket{le="5"} 4',
      't_d_seconds_bucket{le="+Inf"} 5',
      "t_d_seconds_sum 16",
      "t_d_seconds_count 5",
      "",
    ].join("\n"),
  );
});

Deno.test("Registry keeps at most maxSeries label sets per metric and folds the rest, exactly", async () => {
  const reg = new Registry({ maxSeries: 3 });
  const c = reg.counter("t_x_total", "X.", ["id"]);
  for (let i = 0; i < 10; i++) c.inc([`id-${i}`]);
  assert.equal(c.get(["id-0"]), 1);
  assert.equal(c.get(["_overflow"]), 8);
  assert.equal(reg.render().split("\n").filter((l) => l.startsWith("t_x_total")).length, 3);
  assert.equal((await promtoolCheck(reg.render())).code, 0);
});

Deno.test("Registry rejects bad names, labels, buckets and duplicates with typed errors", () => {
  const reg = new Registry();
  assert.throws(() => reg.counter("1bad", "B."), TypeError);
  assert.throws(() => reg.counter("ok_total", "B.", ["le"]), TypeError);
  assert.throws(() => reg.counter("ok_total", "B.", ["__x"]), TypeError);
  assert.throws(() => reg.histogram("h_seconds", "H.", [], [1, 1]), RangeError);
  assert.throws(() => reg.histogram("h_seconds", "H.", [], [1, Infinity]), RangeError);
  reg.gauge("g_ratio", "G.");
  assert.throws(() => reg.gauge("g_ratio", "G."), /already registered/);
  assert.throws(() => new Registry({ maxSeries: 0 }), RangeError);
});

Deno.test("escapeLabelValue() and formatSampleValue() follow the exposition format", () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  assert.equal(formatSampleValue(Infinity), "+Inf");
  assert.equal(formatSampleValue(-Infinity), "-Inf");
  assert.equal(formatSampleValue(NaN), "NaN");
  assert.equal(formatSampleValue(0.25), "0.25");
});

Deno.test("Counter.mirror() never goes down and unlabelled metrics render a zero sample", () => {
  const reg = new Registry();
  const c = reg.counter("t_m_total", "M.");
  reg.gauge("t_g_ratio", "G.");
  reg.histogram("t_h_seconds", "H.", [], [1]);
  assert.match(reg.render(), /^t_m_total 0$/m);
  assert.match(reg.render(), /^t_g_ratio 0$/m);
  assert.match(reg.render(), /^t_h_seconds_count 0$/m);
  c.mirror([], 5);
  c.mirror([], 3);
  assert.equal(c.get(), 5);
});
