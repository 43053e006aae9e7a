import assert from "node:assert/strict";
import { uplinkMetrics } from "../../src/uplink/metrics.ts";
import { UPLINK_STAT_NAMES, type UplinkStats } from "../../src/uplink/options.ts";

function stats(value: number): UplinkStats {
  return Object.fromEntries(UPLINK_STAT_NAMES.map((n) => [n, value])) as UplinkStats;
}

Deno.test("uplinkMetrics() gives one sample per stat, with unique flightlog_uplink_ names", () => {
  const metrics = uplinkMetrics(stats(3));
  assert.equal(metrics.length, UPLINK_STAT_NAMES.length);
  assert.equal(new Set(metrics.map((m) => m.name)).size, metrics.length);
  for (const m of metrics) {
    assert.match(m.name, /^flightlog_uplink_[a-z_]+$/);
    assert.equal(m.type === "counter", m.name.endsWith("_total"), m.name);
  }
});

Deno.test("uplinkMetrics() renders to an exposition that promtool accepts", async (t) => {
  let text = "";
  for (const m of uplinkMetrics(stats(1))) {
    text += `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n${m.name} ${m.value}\n`;
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      await t.step({ name: "promtool is not installed", ignore: true, fn: () => {} });
      return;
    }
    throw error;
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const report = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, report);
  assert.equal(report.trim(), "", report);
});
