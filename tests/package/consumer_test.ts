/**
 * The npm package as a user gets it: `npm pack` (its prepack script runs
 * `deno task build`), then `npm install <tarball>` into a temporary project
 * that has nothing of flightlog's (no config, no node_modules of ours), used
 * there from Deno (`deno run`, `deno check`), from pages bundled by esbuild
 * and by Vite in Chromium under a strict Content Security Policy, from
 * Node.js (an `.mjs` file) and through npm's `flightlog` bin. The bundlers
 * and Deno are this repository's, run as tools in that project.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium } from "../support/chromium.ts";
import { DENO_MAIN_PRINTS, inheritsProject, ok, run, runDenoMain } from "./_project.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ESBUILD = `${ROOT}node_modules/.bin/esbuild`;
const VITE = `${ROOT}node_modules/vite/bin/vite.js`;

// The page a user writes: the same, reporting to the test through globalThis.
const PAGE_MAIN = (specifier: string) =>
  `import { createLogger } from "${specifier}";

const params = new URL(location.href).searchParams;
const workerUrl = params.get("workerUrl");
try {
  // A database of its own per visit: the pages share an origin.
  const dir = "consumer-" + crypto.randomUUID();
  const log = createLogger({ dir, ...(workerUrl === null ? {} : { workerUrl }) });
  const flow = log.child({ flow_id: "f-1", run_id: "r-1" });
  flow.info("run_start", { span_id: "run" });
  // Enough events of one shape that msgpackr would compile a reader (with eval) for them.
  for (let i = 0; i < 20; i++) {
    flow.info("step_end", { span_id: "s" + i, parent_id: "run", i, status: "ok" });
  }
  await log.flush();
  const trace = await log.getFlowLog("f-1");
  globalThis.result = {
    mode: log.stats().mode,
    events: trace.events.length,
    steps: trace.spans[0]?.children.length,
  };
  await log.close();
} catch (err) {
  globalThis.result = { error: String(err) };
}
`;

// The Node.js program a user writes: DENO_MAIN's, in plain JavaScript.
const NODE_MAIN = `import { createLogger } from "flightlog";

const log = createLogger({ dir: process.argv[2] });
const flow = log.child({ flow_id: "f-1", run_id: "r-1" });
flow.info("run_start", { span_id: "run" });
flow.info("step_end", { span_id: "s-1", parent_id: "run", status: "ok", duration_ms: 12.5 });
await log.flush();
const trace = await log.getFlowLog("f-1");
const mode = log.stats().mode;
await log.close();
console.log(JSON.stringify({
  mode,
  events: trace.events.map((e) => e.event),
  steps: trace.spans[0]?.children.length,
}));
`;

const STRICT_CSP = "default-src 'self'";

interface Site {
  readonly url: string;
  /** Paths requested so far. */
  readonly requested: string[];
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 as a production site might: every response with
 * `csp`, and COOP/COEP (cross-origin isolated: the `sab` transport). `/` is
 * `dir/index.html`, or a page that loads `/app.js`.
 */
function serve(dir: string, csp: string): Site {
  const requested: string[] = [];
  const types: Record<string, string> = { js: "text/javascript", html: "text/html" };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    requested.push(path);
    const headers = new Headers({
      "content-security-policy": csp,
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
      "cache-control": "no-store",
    });
    if (path === "/favicon.ico") return new Response(null, { status: 204, headers });
    const file = path === "/" ? "/index.html" : path;
    if (file.includes("..")) return new Response("not found", { status: 404, headers });
    try {
      const body = await Deno.readFile(`${dir}${file}`);
      headers.set("content-type", types[file.split(".").pop()!] ?? "application/octet-stream");
      return new Response(body, { headers });
    } catch {
      return new Response("not found", { status: 404, headers });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requested,
    close: () => server.shutdown(),
  };
}

const APP_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>flightlog consumer</title>
<script type="module" src="/app.js"></script>
`;

/** Opens `url`, waits for the page's result; returns it with every console error and warning. */
async function visit(page: Page, url: string): Promise<{ result: unknown; problems: string[] }> {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  await page.goto(url);
  await page.waitForFunction(() => (globalThis as { result?: unknown }).result !== undefined);
  const result = await page.evaluate(() => (globalThis as { result?: unknown }).result);
  return { result, problems };
}

const EXPECTED = { mode: "sab", events: 21, steps: 20 };

Deno.test("the npm package installs from its tarball and works in a project of its own", async (t) => {
  const work = await Deno.makeTempDir({ prefix: "flightlog-consumer-" });
  const project = `${work}/project`;
  try {
    let tarball = "";
    await t.step("npm pack builds the package and packs only what users need", async () => {
      const out = await ok("npm", ["pack", "--json", "--pack-destination", work], ROOT);
      // The prepack build prints its summary first; npm's JSON report follows.
      const [report] = JSON.parse(out.slice(out.search(/^\[$/m)));
      tarball = `${work}/${report.filename}`;
      const files = new Set<string>(report.files.map((f: { path: string }) => f.path));
      for (const file of files) {
        assert.match(file, /^(dist\/.+|bin\/flightlog\.js|package\.json|README\.md|LICENSE)$/);
      }
      // Every export target and the bin are in the tarball.
      const pkg = JSON.parse(await Deno.readTextFile(`${ROOT}package.json`));
      const targets = (v: unknown): string[] =>
        typeof v === "string" ? [v] : Object.values(v as object).flatMap(targets);
      for (const target of [...targets(pkg.exports), ...targets(pkg.bin)]) {
        assert.ok(files.has(target.replace(/^\.\//, "")), `${target} is packed`);
      }
    });

    await t.step("npm install <tarball> into an empty project", async () => {
      await Deno.mkdir(project);
      assert.equal(await inheritsProject(project), null, "the project inherits nothing");
      await Deno.writeTextFile(
        `${project}/package.json`,
        JSON.stringify({ name: "consumer", private: true, type: "module" }),
      );
      // Dependencies come from npm's cache when `npm ci` put them there.
      await ok("npm", [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        tarball,
      ], project);
    });

    await t.step("Deno: deno run logs a flow and reads it back; deno check passes", async () => {
      const r = await runDenoMain(project);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(JSON.parse(r.stdout), DENO_MAIN_PRINTS);
      await ok(Deno.execPath(), ["check", "main.ts"], project);
    });

    await t.step("npm's flightlog bin runs the CLI on Node.js, with no Deno on PATH", async () => {
      const bin = `${project}/node_modules/.bin/flightlog`;
      // A PATH with node and nothing else: no Deno to find.
      const lonely = `${work}/path`;
      await Deno.mkdir(lonely);
      const node = (await ok("node", ["-p", "process.execPath"], project)).trim();
      await Deno.symlink(node, `${lonely}/node`);
      const flows = await run(bin, ["flows", "store"], project, { PATH: lonely });
      assert.equal(flows.code, 0, flows.out);
      assert.match(flows.out, /^f-1\s+running/m);
    });

    await t.step("Node.js: import from an .mjs file logs a flow and reads it back", async () => {
      await Deno.writeTextFile(`${project}/main.mjs`, NODE_MAIN);
      const r = await run("node", ["main.mjs", `${project}/node-store`], project);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(JSON.parse(r.stdout), DENO_MAIN_PRINTS);
    });

    const chrome = await launchChromium();
    try {
      await t.step(
        "esbuild: the page works under a strict CSP, worker copied or at workerUrl",
        async () => {
          const web = `${project}/web`;
          await Deno.mkdir(`${web}/static`, { recursive: true });
          await Deno.writeTextFile(`${project}/app.js`, PAGE_MAIN("flightlog"));
          await Deno.writeTextFile(`${project}/inline.js`, PAGE_MAIN("flightlog/inline"));
          await ok(ESBUILD, [
            "app.js",
            "inline.js",
            "--bundle",
            "--format=esm",
            "--outdir=web",
            "--log-level=warning",
          ], project);
          // esbuild leaves `new URL("./flightlog_worker.js", import.meta.url)` as it is: the
          // worker is copied beside the bundle, and once more elsewhere for the workerUrl case.
          const worker = `${project}/node_modules/flightlog/dist/browser/flightlog_worker.js`;
          await Deno.copyFile(worker, `${web}/flightlog_worker.js`);
          await Deno.copyFile(worker, `${web}/static/worker.js`);
          await Deno.writeTextFile(`${web}/index.html`, APP_PAGE);
          await Deno.writeTextFile(
            `${web}/inline.html`,
            APP_PAGE.replace("/app.js", "/inline.js"),
          );

          const strict = serve(web, STRICT_CSP);
          try {
            for (const query of ["", "?workerUrl=/static/worker.js"]) {
              const page = await chrome.context.newPage();
              const { result, problems } = await visit(page, `${strict.url}/${query}`);
              assert.deepEqual(result, EXPECTED, query);
              assert.deepEqual(problems, [], `no console errors or warnings ${query}`);
              await page.close();
            }
            // The default is the worker beside the bundle; workerUrl is where it said.
            assert.deepEqual(strict.requested.filter((p) => p.endsWith(".js")), [
              "/app.js",
              "/flightlog_worker.js",
              "/app.js",
              "/static/worker.js",
            ]);
            // The inline bundle starts its worker from a Blob URL, which this CSP refuses.
            const page = await chrome.context.newPage();
            const { problems } = await visit(page, `${strict.url}/inline.html`);
            assert.ok(
              problems.some((p) => /Creating a worker from 'blob:.*violates .*default-src/.test(p)),
              problems.join("\n"),
            );
            await page.close();
          } finally {
            await strict.close();
          }
          // With worker-src blob: it works, and says nothing.
          const relaxed = serve(web, `${STRICT_CSP}; worker-src 'self' blob:`);
          try {
            const page = await chrome.context.newPage();
            const { result, problems } = await visit(page, `${relaxed.url}/inline.html`);
            assert.deepEqual(result, EXPECTED);
            assert.deepEqual(problems, []);
            await page.close();
          } finally {
            await relaxed.close();
          }
        },
      );

      await t.step("Vite: vite build finds the worker without configuration", async () => {
        const site = `${project}/vite`;
        await Deno.mkdir(`${site}/src`, { recursive: true });
        await Deno.writeTextFile(`${site}/src/main.js`, PAGE_MAIN("flightlog"));
        await Deno.writeTextFile(
          `${site}/index.html`,
          APP_PAGE.replace("/app.js", "/src/main.js"),
        );
        await ok("node", [VITE, "build", "--logLevel", "warn"], site);
        const assets = [...Deno.readDirSync(`${site}/dist/assets`)].map((e) => e.name);
        assert.ok(assets.some((name) => /^flightlog_worker-.+\.js$/.test(name)), String(assets));
        const server = serve(`${site}/dist`, STRICT_CSP);
        try {
          const page = await chrome.context.newPage();
          const { result, problems } = await visit(page, `${server.url}/`);
          assert.deepEqual(result, EXPECTED);
          assert.deepEqual(problems, []);
          await page.close();
        } finally {
          await server.close();
        }
      });
    } finally {
      await chrome.close();
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
