/**
 * Dev server of the browser example (`deno task dev`): builds the bundles,
 * serves them with `examples/browser/index.html` on 127.0.0.1, cross-origin
 * isolated (COOP/COEP, so the `sab` transport is used) unless `--no-isolation`
 * is given (the `message` fallback). Stops on Ctrl-C.
 *
 * Run: `npx deno task dev` (or `npx deno task dev --no-isolation`), then open
 * the printed URL.
 *
 * @module
 */
import { buildBrowser } from "../scripts/build.ts";

const port = Number(Deno.env.get("PORT") ?? 8000);
const isolated = !Deno.args.includes("--no-isolation");
const dist = new URL("../dist/browser", import.meta.url).pathname;
const page = new URL("./browser/index.html", import.meta.url).pathname;

const sizes = await buildBrowser(dist);
const types: Record<string, string> = {
  js: "text/javascript",
  map: "application/json",
  html: "text/html; charset=utf-8",
};

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: ({ port }) => {
    console.log(`bundles: ${sizes.map((s) => `${s.file} ${s.bytes} B`).join(", ")}`);
    console.log(
      `flightlog example on http://127.0.0.1:${port}/ (${
        isolated ? "cross-origin isolated: sab transport" : "not isolated: message transport"
      }); Ctrl-C stops`,
    );
  },
}, async (req) => {
  const name = new URL(req.url).pathname.slice(1) || "index.html";
  const headers = new Headers({ "cache-control": "no-store" });
  if (isolated) {
    headers.set("cross-origin-opener-policy", "same-origin");
    headers.set("cross-origin-embedder-policy", "require-corp");
  }
  if (!/^[\w.-]+$/.test(name)) return new Response("not found", { status: 404 });
  try {
    const body = await Deno.readFile(name === "index.html" ? page : `${dist}/${name}`);
    headers.set("content-type", types[name.split(".").pop()!] ?? "application/octet-stream");
    return new Response(body, { headers });
  } catch {
    return new Response("not found", { status: 404, headers });
  }
});
