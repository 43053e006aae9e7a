/**
 * Builds the npm package: `deno task build` (and `npm pack`, through the
 * `prepack` script) writes it to `dist/`; the browser tests and benchmarks
 * build the browser bundles alone into a temporary directory through
 * {@linkcode buildBrowser}, so they never run a stale `dist/`.
 *
 * What `dist/` holds (package.json `exports` points into it):
 *
 * - `browser/flightlog.js`: `mod.ts` for browsers (ESM, dependencies
 *   inlined); starts `flightlog_worker.js` next to it, or the `workerUrl`
 *   option's module.
 * - `browser/flightlog_worker.js`: the browser worker (drains the rings,
 *   writes IndexedDB); self-contained, so a bundler may copy it as an asset.
 * - `browser/flightlog.inline.js`: `mod.ts` with the worker inlined, started
 *   from a Blob URL (one file to serve; a CSP must allow `worker-src blob:`).
 * - `deno/mod.js`, `deno/cli.js`, `deno/flightlog_worker.js` and shared
 *   chunks: the Deno build (ESM, npm dependencies left as imports).
 * - `types/`: declarations of `mod.ts` and the CLI, emitted by TypeScript.
 * - `node/mod.js`, `node/cli.js`, `node/flightlog_worker.js` and shared chunks: the
 *   Node.js build (ESM, npm dependencies left as imports), with
 *   `src/platform/node.ts` and `node:fs` in place of Deno's; `node/mod.cjs`:
 *   the same modules for `require()`, in one file, starting the same worker.
 *
 * Each browser file has a `.map` source map. In browser bundles
 * `src/platform/deno.ts` is swapped for `src/platform/browser.ts`, so no Deno
 * or Node API reaches them; in the Node.js build for `src/platform/node.ts`,
 * so no Deno API does.
 *
 * @module
 */
import * as esbuild from "esbuild";

const ROOT = new URL("../", import.meta.url);

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
    build.onResolve({ filter: /platform\/deno\.ts$/ }, () => ({
      path: new URL("src/platform/browser.ts", ROOT).pathname,
    }));
    build.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `${args.path} imported by ${args.importer} cannot run in a browser` }],
    }));
  },
};

// msgpackr compiles a reader per record shape with `new Function` once a shape
// has been read a few times, and falls back to its interpreter when that
// throws. Under a Content Security Policy without 'unsafe-eval' the attempt
// is a console error (a CSP violation report), so the browser bundles take
// the fallback without trying, as msgpackr's own no-eval build does (its
// `BlockedFunction` is declared for this replacement). Cost: about 20% more
// time per decoded batch (bench/no_eval_bench.ts "decode").
const msgpackrNoEval: esbuild.Plugin = {
  name: "flightlog-msgpackr-no-eval",
  setup(build) {
    build.onLoad({ filter: /[\\/]msgpackr[\\/]unpack\.js$/ }, async (args) => {
      const source = await Deno.readTextFile(args.path);
      const contents = source.replace("new Function(", "new BlockedFunction(");
      if (contents === source || contents.includes("new Function(")) {
        return {
          errors: [{
            text: `${args.path} does not have exactly one \`new Function(\`: ` +
              "check scripts/build.ts's no-eval replacement against this msgpackr version",
          }],
        };
      }
      return { contents, loader: "js" };
    });
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
  plugins: [browserRuntime, msgpackrNoEval],
  logLevel: "silent",
};

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Builds the three browser bundles (and maps) into `outdir`; returns their sizes. */
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

/**
 * Builds the Deno modules into `outdir`: `mod.js`, `cli.js` and
 * `flightlog_worker.js`, sharing chunks. npm dependencies and `node:`
 * modules stay imports (npm installs the dependencies beside the package).
 */
export async function buildDeno(outdir: string): Promise<void> {
  try {
    await esbuild.build({
      entryPoints: {
        mod: new URL("mod.ts", ROOT).pathname,
        cli: new URL("src/cli/main.ts", ROOT).pathname,
        flightlog_worker: new URL("workers/flightlog_worker.ts", ROOT).pathname,
      },
      outdir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      packages: "external",
      target: "es2022",
      // Chunks land in `outdir` too, so the worker is "./" from the one that starts it.
      define: { __FLIGHTLOG_DENO_WORKER__: JSON.stringify("./flightlog_worker.js") },
      logLevel: "silent",
    });
  } finally {
    await esbuild.stop();
  }
}

// The Node.js build: every import of the Deno runtime module resolves to the
// Node.js one, and the store's default file system (`denoFs`, the default of
// lockStoreDir() and SegmentStore.open()) is `node:fs`'s, so no Deno call is left.
const nodeRuntime: esbuild.Plugin = {
  name: "flightlog-node-runtime",
  setup(build) {
    build.onResolve({ filter: /platform\/deno\.ts$/ }, () => ({
      path: new URL("src/platform/node.ts", ROOT).pathname,
    }));
    build.onResolve({ filter: /(^|\/)_fs_deno\.ts$/ }, () => ({
      path: "_fs_deno.ts",
      namespace: "flightlog-node-fs",
    }));
    build.onLoad({ filter: /.*/, namespace: "flightlog-node-fs" }, () => ({
      contents: 'export { nodeFs as denoFs } from "./_fs_node.ts";',
      resolveDir: new URL("src/store/", ROOT).pathname,
      loader: "ts",
    }));
  },
};

/**
 * Builds the Node.js modules into `outdir`: `mod.js`, `cli.js` (the bin's
 * command line) and `flightlog_worker.js`, sharing chunks, with `src/platform/node.ts` in
 * place of `deno.ts`, and `mod.cjs`, the same for `require()`. npm
 * dependencies and `node:` modules stay imports.
 */
export async function buildNode(outdir: string): Promise<void> {
  try {
    await esbuild.build({
      entryPoints: {
        mod: new URL("mod.ts", ROOT).pathname,
        cli: new URL("src/cli/node_main.ts", ROOT).pathname,
        flightlog_worker: new URL("workers/flightlog_node_worker.ts", ROOT).pathname,
      },
      outdir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      packages: "external",
      target: "node20",
      plugins: [nodeRuntime],
      define: { __FLIGHTLOG_NODE_WORKER__: JSON.stringify("./flightlog_worker.js") },
      logLevel: "silent",
    });
    // The same modules for `require()`: one file (CommonJS has no shared chunks), comlink
    // inlined (npm ships it as ESM only), import.meta.url made from __filename.
    await esbuild.build({
      entryPoints: [new URL("mod.ts", ROOT).pathname],
      outfile: `${outdir}/mod.cjs`,
      bundle: true,
      format: "cjs",
      platform: "node",
      external: ["msgpackr", "crc-32", "cli-progress", "idb"],
      target: "node20",
      plugins: [nodeRuntime],
      define: {
        __FLIGHTLOG_NODE_WORKER__: JSON.stringify("./flightlog_worker.js"),
        "import.meta.url": "__flightlogModuleUrl",
      },
      banner: {
        js: 'const __flightlogModuleUrl = require("node:url").pathToFileURL(__filename).href;',
      },
      logLevel: "silent",
    });
  } finally {
    await esbuild.stop();
  }
}

/** A failed build step, with the tool's output. */
export class BuildError extends Error {
  override name = "BuildError";
}

/**
 * Emits the declarations of `mod.ts` and the CLI into `outdir` with
 * TypeScript (`node_modules/.bin/tsc`, declarations only: `deno check` is the
 * type checker), then points their relative imports at `.js` so that
 * TypeScript finds the `.d.ts` beside each.
 */
export async function buildTypes(outdir: string): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "flightlog-types-" });
  try {
    // Deno's own declarations, for the `Deno` namespace the sources use.
    const denoTypes = await new Deno.Command(Deno.execPath(), { args: ["types"] }).output();
    if (!denoTypes.success) throw new BuildError("deno types failed");
    await Deno.writeFile(`${work}/deno.d.ts`, denoTypes.stdout);
    const root = new URL(".", ROOT).pathname;
    const config = {
      compilerOptions: {
        declaration: true,
        emitDeclarationOnly: true,
        noCheck: true,
        allowImportingTsExtensions: true,
        module: "esnext",
        moduleResolution: "bundler",
        target: "es2022",
        lib: ["es2023", "dom", "dom.iterable"],
        types: [],
        strict: true,
        exactOptionalPropertyTypes: true,
        skipLibCheck: true,
        rootDir: root,
        outDir: outdir,
        // The `.mjs` entry's declarations are in `.d.ts`, where Deno finds them.
        paths: {
          "comlink/dist/esm/comlink.mjs": [`${root}node_modules/comlink/dist/esm/comlink.d.ts`],
        },
      },
      files: [`${root}mod.ts`, `${root}src/cli/main.ts`, `${work}/deno.d.ts`],
    };
    await Deno.writeTextFile(`${work}/tsconfig.json`, JSON.stringify(config));
    const tsc = new URL("node_modules/.bin/tsc", ROOT).pathname;
    const out = await new Deno.Command(tsc, {
      args: ["-p", `${work}/tsconfig.json`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      throw new BuildError(`tsc failed to emit the declarations:\n${text}`);
    }
    await rewriteDeclarationImports(outdir);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

// `from "./x.ts"`, `import("./x.ts")`, `import "./x.ts"` outside doc comments.
const TS_IMPORT = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.ts(["'])/g;

async function rewriteDeclarationImports(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) {
      await rewriteDeclarationImports(path);
    } else if (entry.name.endsWith(".d.ts")) {
      const text = await Deno.readTextFile(path);
      const lines = text.split("\n").map((line) =>
        /^\s*\*/.test(line) ? line : line.replace(TS_IMPORT, "$1$2.js$3")
      );
      await Deno.writeTextFile(path, lines.join("\n"));
    }
  }
}

/**
 * Builds the whole npm package into `outdir` (emptied first): browser
 * bundles, Deno modules, Node.js modules, declarations. Returns the browser
 * bundles' sizes.
 */
export async function buildPackage(outdir: string): Promise<BundleInfo[]> {
  await Deno.remove(outdir, { recursive: true }).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  const sizes = await buildBrowser(`${outdir}/browser`);
  await buildDeno(`${outdir}/deno`);
  await buildNode(`${outdir}/node`);
  await buildTypes(`${outdir}/types`);
  return sizes;
}

if (import.meta.main) {
  const outdir = Deno.args[0] ?? new URL("dist", ROOT).pathname;
  const sizes = await buildPackage(outdir);
  console.log(`Built the package into ${outdir}; browser bundles:`);
  for (const s of sizes) {
    console.log(`- browser/${s.file}: ${s.bytes} bytes minified, ${s.gzip} gzip`);
  }
}
