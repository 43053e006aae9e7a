/**
 * Builds the browser bundles with esbuild: `deno task build` writes them to
 * `dist/`, and the browser tests and benchmarks build into a temporary
 * directory through the same function, so they never run a stale `dist/`.
 * (It lives here rather than in `src/` because it is tooling, not portable
 * library code, and its first users are the tests.)
 *
 * | file                  | what                                                          |
 * | --------------------- | ------------------------------------------------------------- |
 * | `flightlog.js`        | `mod.ts` for browsers (ESM); starts `flightlog_worker.js` next to it |
 * | `flightlog_worker.js` | the worker: drains the rings, writes IndexedDB                |
 * | `flightlog.inline.js` | `mod.ts` with the worker inlined (one file to serve)          |
 *
 * Each has a `.map` source map. `src/_runtime_deno.ts` is swapped for
 * `src/_runtime_browser.ts`, so no Deno or Node API reaches a bundle.
 *
 * @module
 */
import * as esbuild from "esbuild";

const ROOT = new URL("../../", import.meta.url);

/** One written bundle. */
export interface BundleInfo {
  /** File name in the output directory. */
  file: string;
  /** Size in bytes (minified). */
  bytes: number;
  /** Size in bytes after gzip. */
  gzip: number;
}

// Every import of the Deno runtime module resolves to the browser one.
const browserRuntime: esbuild.Plugin = {
  name: "flightlog-browser-runtime",
  setup(build) {
    build.onResolve({ filter: /_runtime_deno\.ts$/ }, () => ({
      path: new URL("src/_runtime_browser.ts", ROOT).pathname,
    }));
    build.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `${args.path} imported by ${args.importer} cannot run in a browser` }],
    }));
  },
};

const COMMON: esbuild.BuildOptions = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: "linked",
  legalComments: "none",
  plugins: [browserRuntime],
  logLevel: "silent",
};

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Builds the three bundles (and maps) into `outdir`; returns their sizes. */
export async function buildBrowser(outdir: string): Promise<BundleInfo[]> {
  try {
    await Deno.mkdir(outdir, { recursive: true });
    await esbuild.build({
      ...COMMON,
      entryPoints: [new URL("workers/flightlog_browser_worker.ts", ROOT).pathname],
      outfile: `${outdir}/flightlog_worker.js`,
      define: { __FLIGHTLOG_WORKER_SOURCE__: "null" },
    });
    const workerSource = await Deno.readTextFile(`${outdir}/flightlog_worker.js`);
    await esbuild.build({
      ...COMMON,
      entryPoints: [new URL("mod.ts", ROOT).pathname],
      outfile: `${outdir}/flightlog.js`,
      define: { __FLIGHTLOG_WORKER_SOURCE__: "null" },
    });
    // The inlined worker drops its sourceMappingURL: a Blob URL cannot resolve it.
    const inlined = workerSource.replace(/\n\/\/# sourceMappingURL=.*\n?$/, "\n");
    await esbuild.build({
      ...COMMON,
      entryPoints: [new URL("mod.ts", ROOT).pathname],
      outfile: `${outdir}/flightlog.inline.js`,
      define: { __FLIGHTLOG_WORKER_SOURCE__: JSON.stringify(inlined) },
    });
  } finally {
    await esbuild.stop();
  }
  const out: BundleInfo[] = [];
  for (const file of ["flightlog.js", "flightlog_worker.js", "flightlog.inline.js"]) {
    const bytes = await Deno.readFile(`${outdir}/${file}`);
    out.push({ file, bytes: bytes.length, gzip: await gzipSize(bytes) });
  }
  return out;
}

/**
 * Builds one more module for browsers, as `flightlog.js` is built (the
 * browser runtime swapped in), into `outdir/file`; it starts
 * `flightlog_worker.js` next to it. For tests that need internals `mod.ts`
 * does not export.
 */
export async function buildBrowserEntry(entry: URL, outdir: string, file: string): Promise<void> {
  try {
    await esbuild.build({
      ...COMMON,
      entryPoints: [entry.pathname],
      outfile: `${outdir}/${file}`,
      define: { __FLIGHTLOG_WORKER_SOURCE__: "null" },
    });
  } finally {
    await esbuild.stop();
  }
}

if (import.meta.main) {
  const outdir = Deno.args[0] ?? new URL("dist", ROOT).pathname;
  const sizes = await buildBrowser(outdir);
  console.log(`Built into ${outdir}:`);
  console.log("| file | bytes (minified) | gzip |\n| --- | ---: | ---: |");
  for (const s of sizes) console.log(`| \`${s.file}\` | ${s.bytes} | ${s.gzip} |`);
}
