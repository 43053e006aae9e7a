import assert from "node:assert/strict";
import {
  readUplinkStats,
  resolveUplinkOptions,
  UPLINK_STAT_NAMES,
} from "../../src/uplink/options.ts";

Deno.test("resolveUplinkOptions() applies the documented defaults", () => {
  const r = resolveUplinkOptions({ url: "http://127.0.0.1:4318/" });
  assert.equal(r.url, "http://127.0.0.1:4318");
  assert.deepEqual(r.signals, ["logs", "traces"]);
  assert.equal(r.batchEvents, 512);
  assert.equal(r.batchBytes, 4 * 1024 * 1024);
  assert.equal(r.intervalMs, 1000);
  assert.equal(r.maxBacklogBytes, Infinity);
  assert.equal(r.gzip, true);
  assert.equal(r.timeoutMs, 30_000);
  assert.deepEqual(r.backoff, { initialMs: 1000, maxMs: 300_000 });
});

Deno.test("resolveUplinkOptions() refuses bad values with errors that say what to fix", () => {
  const url = "http://127.0.0.1:4318";
  assert.throws(() => resolveUplinkOptions(null as never), /must be an object/);
  assert.throws(() => resolveUplinkOptions({ url: "nope" }), /absolute http\(s\) URL/);
  assert.throws(() => resolveUplinkOptions({ url: "ftp://x" }), /http or https/);
  assert.throws(() => resolveUplinkOptions({ url, signals: [] }), /"logs" and\/or "traces"/);
  assert.throws(() => resolveUplinkOptions({ url, signals: ["metrics" as never] }), TypeError);
  assert.throws(() => resolveUplinkOptions({ url, batchEvents: -1 }), RangeError);
  assert.throws(() => resolveUplinkOptions({ url, intervalMs: NaN }), RangeError);
  assert.throws(() => resolveUplinkOptions({ url, compression: "br" as never }), /gzip/);
});

Deno.test("readUplinkStats() reads every stat back from its mirror", () => {
  const array = new Float64Array(UPLINK_STAT_NAMES.length).map((_, i) => i + 1);
  const stats = readUplinkStats(array);
  UPLINK_STAT_NAMES.forEach((name, i) => assert.equal(stats[name], i + 1));
});
