import assert from "node:assert/strict";
import { createLogger } from "../../mod.ts";
import { OtlpReceiver } from "../support/otlp_receiver.ts";

Deno.test("createLogger({ uplink }) ships from the worker and reports in stats().uplink", async () => {
  const dir = await Deno.makeTempDir();
  const receiver = OtlpReceiver.start();
  const log = createLogger({
    dir,
    uplink: { url: receiver.url, intervalMs: 10, batchEvents: 50 },
  });
  try {
    assert.equal(log.stats().uplink?.sent, 0);
    const flow = log.child({ flow_id: "f-1" });
    for (let i = 0; i < 200; i++) flow.info("tick", { i });
    flow.info("step_end", { span_id: "s1", parent_id: "run", duration_ms: 4 });
    await log.flush();
    // Await the real condition: the receiver has every event.
    while (receiver.uids("logs").length < 201) {
      await new Promise<void>((resolve) => (receiver.onCommit = () => resolve()));
    }
    const uids = receiver.uids("logs");
    const producer = log.stats().producer;
    assert.deepEqual(uids, Array.from({ length: 201 }, (_, i) => `${producer}:${i + 1}`));
    while (receiver.uids("traces").length === 0) {
      await new Promise<void>((resolve) => (receiver.onCommit = () => resolve()));
    }
    // deno-lint-ignore no-explicit-any
    const spans = receiver.received.filter((r) => r.signal === "traces").flatMap((r: any) =>
      r.request.resourceSpans[0].scopeSpans[0].spans
    );
    assert.equal(spans.length, 1, "one event has a span_id; the ticks are in no span");
    while ((log.stats().uplink?.sent ?? 0) < 201 + spans.length) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(receiver.invalid, []);
    const stats = log.stats().uplink!;
    assert.equal(stats.failed, 0);
    assert.ok(stats.last_success_ms > 0);
  } finally {
    await log.close();
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stats().uplink.backlog_events counts every stored, unsent event as soon as flush() resolves", async () => {
  const dir = await Deno.makeTempDir();
  const receiver = OtlpReceiver.start();
  // The uplink looks at the store once at start, then only every intervalMs.
  const log = createLogger({ dir, uplink: { url: receiver.url, intervalMs: 600_000 } });
  try {
    // Answered after the uplink's first look (an empty store): it now waits.
    await log.flush();
    assert.equal(log.stats().uplink?.backlog_events, 0);
    for (let i = 0; i < 20; i++) log.info("tick", { i });
    await log.flush();
    assert.equal(log.stats().uplink?.backlog_events, 20);
    assert.ok((log.stats().uplink?.backlog_bytes ?? 0) > 0);
    assert.equal(receiver.attempts, 0, "nothing was sent yet");
  } finally {
    await log.close();
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createLogger() refuses a bad uplink option with a TypeError that says what to fix", () => {
  assert.throws(
    () => createLogger({ uplink: { url: "collector:4318" } }),
    /must use http or https/,
  );
  assert.throws(
    () => createLogger({ transport: "inline", uplink: { url: "http://127.0.0.1:4318" } }),
    /needs a worker/,
  );
  assert.throws(
    () => createLogger({ uplink: { url: "http://127.0.0.1:4318", batchEvents: 0 } }),
    RangeError,
  );
});
