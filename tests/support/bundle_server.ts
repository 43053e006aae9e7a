/**
 * A local HTTP server for the browser tests and benchmarks: serves the built
 * bundles and a blank test page on 127.0.0.1 (port 0), with or without the
 * COOP/COEP headers that make the page cross-origin isolated.
 *
 * @module
 */

/** A running server. */
export interface TestServer {
  /** The page's URL: `http://127.0.0.1:<port>/`. */
  readonly url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  js: "text/javascript",
  map: "application/json",
  html: "text/html; charset=utf-8",
};

/** The test page: loads `flightlog.js` (or `?bundle=`) as `globalThis.flightlog`. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>flightlog test page</title>
<script type="module">
  const bundle = new URL(location.href).searchParams.get("bundle") ?? "flightlog.js";
  globalThis.flightlog = await import("./" + bundle);
  globalThis.flightlogReady = true;
</script>`;

/** Options of {@linkcode serveBundles}. */
export interface ServeOptions {
  /**
   * Answers a request for file `name` instead of the directory (returns a
   * response), or leaves it to the directory (returns undefined).
   */
  answer?: (name: string) => Response | undefined;
}

/** Serves `dir` (the bundles) and the test page; `isolated` adds COOP/COEP. */
export function serveBundles(
  dir: string,
  isolated: boolean,
  options: ServeOptions = {},
): TestServer {
  const headers = (type: string): Headers => {
    const h = new Headers({ "content-type": type, "cache-control": "no-store" });
    if (isolated) {
      h.set("cross-origin-opener-policy", "same-origin");
      h.set("cross-origin-embedder-policy", "require-corp");
    }
    return h;
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/") return new Response(PAGE, { headers: headers(TYPES.html!) });
      const name = path.slice(1);
      const answer = options.answer?.(name);
      if (answer !== undefined) return answer;
      if (!/^[\w.-]+$/.test(name)) return new Response("not found", { status: 404 });
      try {
        const body = await Deno.readFile(`${dir}/${name}`);
        const type = TYPES[name.split(".").pop()!] ?? "application/octet-stream";
        return new Response(body, { headers: headers(type) });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    close: () => server.shutdown(),
  };
}
