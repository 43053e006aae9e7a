import assert from "node:assert/strict";
import { metricsHandler } from "../../src/sinks/metrics_server.ts";

const TEXT = "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n";
const handle = metricsHandler(() => Promise.resolve(TEXT));

Deno.test("metricsHandler() answers GET /metrics with the exposition text and its content type", async () => {
  const res = await handle(new Request("http://127.0.0.1:9464/metrics"));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(await res.text(), TEXT);
});

Deno.test("metricsHandler() answers HEAD without a body, other paths 404, other methods 405", async () => {
  const head = await handle(new Request("http://127.0.0.1/metrics", { method: "HEAD" }));
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
  const missing = await handle(new Request("http://127.0.0.1/metrics/x"));
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const post = await handle(new Request("http://127.0.0.1/metrics", { method: "POST" }));
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  await post.body?.cancel();
});

Deno.test("metricsHandler() answers 503 with the reason when rendering fails", async () => {
  const failing = metricsHandler(() => Promise.reject(new Error("The logger is closed")));
  const res = await failing(new Request("http://127.0.0.1/metrics"));
  assert.equal(res.status, 503);
  assert.equal(await res.text(), "Metrics unavailable: The logger is closed\n");
});
