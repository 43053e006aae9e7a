// The uplink from a Node.js worker: gzipped OTLP/HTTP JSON to a receiver,
// and its position saved in the store directory for the next start.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { test } from "node:test";
import { gunzipSync } from "node:zlib";
import { createLogger } from "flightlog";
import { tempDir, until } from "./_helpers.mjs";

test("the uplink ships the store's logs to an OTLP receiver and saves its position", async (t) => {
  const dir = await tempDir(t);
  const bodies = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const gzip = req.headers["content-encoding"] === "gzip";
      if (req.url === "/v1/logs") bodies.push(JSON.parse(gzip ? gunzipSync(raw) : raw));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const url = `http://127.0.0.1:${server.address().port}`;

  const log = createLogger({ dir, uplink: { url, signals: ["logs"], intervalMs: 20 } });
  for (let i = 0; i < 20; i++) log.info("step", { flow_id: "f-up", i });
  await log.flush();
  const shipped = () =>
    bodies.flatMap((b) => b.resourceLogs.flatMap((r) => r.scopeLogs.flatMap((s) => s.logRecords)));
  await until(() => shipped().length >= 20, "20 log records at the receiver");
  // Its counters reach this thread after the receiver answered.
  await until(() => log.stats().uplink?.sent === 20, "the uplink's sent counter");
  await log.close();
  assert.equal(shipped().length, 20);
  assert.match(readFileSync(`${dir}/uplink-logs.cursor`, "utf8"), /^\d+ 0 {2,}\n$/);
});
