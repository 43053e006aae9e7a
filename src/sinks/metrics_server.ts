/**
 * The optional `/metrics` endpoint: `GET /metrics` answers the Prometheus
 * text of the logger (rendered in the consumer); anything else is 404, a
 * method other than GET or HEAD is 405. It listens on loopback unless told
 * otherwise and is closed by the logger's `close()`.
 *
 * @module
 */
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";

/**
 * The request handler of the endpoint.
 *
 * @example Answer a scrape
 * ```ts
 * import { metricsHandler } from "./metrics_server.ts";
 * import assert from "node:assert/strict";
 *
 * const handle = metricsHandler(() => Promise.resolve("# HELP x X.\n# TYPE x gauge\nx 1\n"));
 * const res = await handle(new Request("http://127.0.0.1/metrics"));
 * assert.equal(res.status, 200);
 * assert.equal(await res.text(), "# HELP x X.\n# TYPE x gauge\nx 1\n");
 * assert.equal((await handle(new Request("http://127.0.0.1/"))).status, 404);
 * ```
 */
export function metricsHandler(
  render: () => Promise<string>,
): (req: Request) => Promise<Response> {
  return async (req) => {
    if (new URL(req.url).pathname !== "/metrics") {
      return new Response("Not found: scrape /metrics\n", { status: 404 });
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("Method not allowed: use GET\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    try {
      const text = await render();
      return new Response(req.method === "HEAD" ? null : text, {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
      });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      return new Response(`Metrics unavailable: ${why}\n`, { status: 503 });
    }
  };
}
