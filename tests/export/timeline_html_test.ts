/**
 * The timeline page in real headless Chromium: written by the `view` command
 * from a store the logger wrote, opened from disk, screenshot taken, spans
 * rendered, a click showing a span's events, and no network request.
 */
import assert from "node:assert/strict";
import { buildFlowLog } from "../../src/flow_log.ts";
import { renderTimelineHtml } from "../../src/export/timeline_html.ts";
import { launchChromium } from "../support/chromium.ts";
import { writeFlowStore } from "../support/flow_store.ts";
import { cli } from "../cli/_run.ts";

Deno.test("renderTimelineHtml() renders spans and shows a span's events on click in Chromium", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-view-" });
  const chromium = await launchChromium();
  try {
    await writeFlowStore(`${dir}/store`, { flows: 2, steps: 60, callsPerStep: 1 });
    const page = `${dir}/timeline.html`;
    const view = await cli("view", `${dir}/store`, "flow-0001", "-o", page);
    assert.equal(view.code, 0, view.stderr);

    const tab = await chromium.context.newPage();
    const requests: string[] = [];
    tab.on("request", (request) => requests.push(request.url()));
    await tab.goto(`file://${page}`);
    await tab.waitForSelector("body[data-ready=true]");

    // One run, the job its steps name, and 60 steps.
    assert.equal(await tab.locator(".row").count(), 62);
    assert.equal(await tab.locator(".row.error-row").count(), 3); // run, job and step-49
    assert.equal(await tab.locator(".bar.ok").count(), 59);
    const failed = tab.locator(".row", { hasText: "step-49" });
    assert.equal(await failed.locator(".bar.error").count(), 1);
    assert.equal(await failed.locator(".mark").count(), 1); // the error event

    await failed.locator(".bar").click();
    const details = tab.locator("#details");
    assert.match(await details.locator("h2").innerText(), /^step-49 \(step\)$/);
    assert.equal(await details.locator(".message").innerText(), "step 49 timed out");
    const rows = details.locator("tr.event");
    assert.equal(await rows.count(), 3);
    assert.deepEqual(await rows.locator("td:nth-child(3)").allInnerTexts(), [
      "step_start",
      "llm_call",
      "step_end",
    ]);
    assert.match(await rows.nth(2).locator(".fields").innerText(), /"status": "failed"/);
    assert.equal(await tab.locator(".row.selected").count(), 1);

    const shot = await tab.screenshot({ path: `${dir}/timeline.png`, fullPage: true });
    assert.deepEqual([...shot.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    assert.ok(shot.length > 10_000, `screenshot of ${shot.length} bytes`);

    assert.deepEqual(requests, [`file://${page}`], "the page fetches nothing");
    await tab.close();
  } finally {
    await chromium.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderTimelineHtml() keeps event text out of the markup", () => {
  const html = renderTimelineHtml(buildFlowLog("<flow>", [{
    ts_ms: 1,
    level: "info",
    severity: 9,
    event: "run_start",
    producer: "p.1",
    seq: 1,
    fields: { flow_id: "<flow>", run_id: "</script><script>alert(1)</script>", "\u2028": 1 },
  }]));
  assert.ok(!html.includes("<script>alert"));
  assert.ok(html.includes("<title>flightlog · &lt;flow&gt;</title>"));
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  const data = html.match(/<script type="application\/json" id="flightlog-data">(.*?)<\/script>/s);
  const parsed = JSON.parse(data![1]!);
  assert.equal(parsed.spans[0].name, "</script><script>alert(1)</script>");
});
