/**
 * Everything Node.js-specific behind one small module, the npm package's
 * stand-in for `platform/deno.ts` (its Node build swaps one for the other,
 * see `scripts/build.ts`): the store worker on `node:worker_threads`,
 * `unref()`ed so a script that logs still ends; the segment-file store on
 * `node:fs` (`store/_fs_node.ts`, the same bytes as Deno's); exit hooks on
 * `process`.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import * as os from "node:os";
import process from "node:process";
import { isatty } from "node:tty";
import { pathToFileURL } from "node:url";
import type { WorkerInit } from "../worker/api.ts";
import type { Store } from "../worker/consumer.ts";
import type { StoreOpenOptions } from "../worker/serve.ts";
import { nodeFs } from "../store/_fs_node.ts";
import { StoreLockedError } from "../store/errors.ts";
import { lockStoreDir } from "../store/lock.ts";
import { SegmentStore } from "../store/segment_store.ts";
import type { Spill } from "../wire/spill_text.ts";
import type { CpuInfo, HttpListener, RuntimeInfo, TempStore, WorkerHandle } from "./types.ts";
import { ExitHooks, signalListener } from "./_exit_hooks.ts";
import { startThread } from "./_node_port.ts";

export type { HttpListener, WorkerHandle } from "./types.ts";

/** True when a worker thread can be started. */
export function hasWorkers(): boolean {
  return true;
}

/** True when SharedArrayBuffer is usable (Node.js: always, unless a flag removed it). */
export function hasSharedMemory(): boolean {
  return typeof SharedArrayBuffer === "function";
}

/** True when this thread may block in `Atomics.wait` (Node.js: every thread). */
export function canWait(): boolean {
  return true;
}

// The npm build (scripts/build.ts) defines this: its worker bundle, beside the module that starts it.
declare const __FLIGHTLOG_NODE_WORKER__: string | undefined;
const WORKER_MODULE = typeof __FLIGHTLOG_NODE_WORKER__ === "string"
  ? __FLIGHTLOG_NODE_WORKER__
  : "../../workers/flightlog_node_worker.ts";

/** The worker module: `url` (a URL, or a path from the working directory), else flightlog's own. */
function workerModule(url: string | URL | undefined): URL {
  if (url === undefined) return new URL(WORKER_MODULE, import.meta.url);
  const module = url instanceof URL
    ? url
    : /^[a-z][a-z0-9+.-]+:/i.test(url)
    ? new URL(url)
    : pathToFileURL(url);
  if (module.protocol === "file:" || module.protocol === "data:") return module;
  throw new TypeError(
    `Worker module ${module.href} cannot be started: Node.js starts workers from files ` +
      "only; give workerUrl a path or a file: URL",
  );
}

/**
 * Starts the store worker (from `url` when given: the `workerUrl` option),
 * unref()ed so it never keeps the process alive.
 */
export function startWorker(init: WorkerInit, url?: string | URL): WorkerHandle {
  return startThread(workerModule(url), init);
}

/** Keeps a timer from holding the process open. */
export function unrefTimer(id: ReturnType<typeof setTimeout>): void {
  (id as { unref?: () => void }).unref?.();
}

/** Opens the segment-file store in `dir`. */
export function openStore(dir: string, options: StoreOpenOptions): Store {
  return SegmentStore.open(dir, { ...options, fs: nodeFs });
}

/**
 * Takes the store directory's lock for this process until the returned
 * function is called (docs/internals.md "The lock"; on Node.js it is taken
 * as `store/_fs_node.ts` says), or returns null when it cannot be taken
 * here: the worker then takes it itself and reports the failure. Another
 * holder is a {@linkcode StoreLockedError}, thrown.
 */
export function lockStore(dir: string): (() => void) | null {
  try {
    const lock = lockStoreDir(dir, { fs: nodeFs, pid: process.pid });
    return () => lock.release();
  } catch (err) {
    if (err instanceof StoreLockedError) throw err;
    return null;
  }
}

// ---------------------------------------------------------------------------
// Exit hooks: one set of listeners for every live logger, installed with the
// first hook and removed with the last, so closed loggers leave nothing behind.

// Every copy of flightlog in the process marks its signal listeners so that
// none takes another's for the application's.
const OWN = Symbol.for("flightlog.ownSignalListener");

function markOwn(listener: () => void): void {
  (listener as { [OWN]?: true })[OWN] = true;
}

/**
 * True when the application has its own listener for `signal`. flightlog's
 * listener is prepended, so it runs first and sees every other listener,
 * `once()` ones included, still registered.
 */
function appListens(signal: "SIGINT" | "SIGTERM"): boolean {
  return process.listeners(signal).some((l) => (l as { [OWN]?: true })[OWN] !== true);
}

// Node.js emits `exit` after an uncaught exception or unhandled rejection
// too, so that one listener also covers them without touching their handling.
// The signal listeners are prepended: they run first and see every other
// listener still registered (see appListens()).
const exitHooks: ExitHooks = new ExitHooks({
  install(run) {
    onExit = run;
    process.on("exit", onExit);
    process.prependListener("SIGINT", onSigint);
    process.prependListener("SIGTERM", onSigterm);
  },
  uninstall() {
    process.off("exit", onExit);
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
  },
});
let onExit: () => void = () => {};
// Through process.exit, so that every 'exit' listener runs.
const onSigint = signalListener(exitHooks, 130, () => appListens("SIGINT"), (c) => process.exit(c));
const onSigterm = signalListener(
  exitHooks,
  143,
  () => appListens("SIGTERM"),
  (c) => process.exit(c),
);
markOwn(onSigint);
markOwn(onSigterm);

/**
 * Runs `flush` synchronously at process exit: end of script,
 * `process.exit()`, an uncaught exception or unhandled rejection (all
 * through `exit`), SIGINT and SIGTERM. After a signal's flush,
 * the process exits with 130 (SIGINT) or 143 (SIGTERM) unless the
 * application listens to that signal itself: then exiting is left to it.
 * Returns the function that removes the hook. (`_spill` is the browser's
 * unload spill: a process has the synchronous flush instead.)
 */
export function addExitHook(flush: () => void, _spill?: () => void): () => void {
  return exitHooks.add(flush);
}

// ---------------------------------------------------------------------------
// Console, environment, module paths and the /metrics listener.

/** An environment variable, or undefined when unset. */
export function readEnv(name: string): string | undefined {
  return process.env[name];
}

/** True when the stream is a terminal. */
export function isTerminal(stream: "stdout" | "stderr"): boolean {
  return isatty(stream === "stdout" ? 1 : 2);
}

/**
 * Writes `text` whole to stdout or stderr, synchronously (one call per batch
 * of lines). A non-blocking pipe that is full (`EAGAIN`) is retried: the
 * lines must not be lost, and their order must hold.
 */
export function writeConsole(stream: "stdout" | "stderr", text: string): void {
  const fd = stream === "stdout" ? 1 : 2;
  const bytes = Buffer.from(text);
  let off = 0;
  while (off < bytes.length) {
    try {
      off += fs.writeSync(fd, bytes, off, bytes.length - off);
    } catch (err) {
      if ((err as { code?: unknown }).code !== "EAGAIN") throw err;
    }
  }
}

/**
 * A module specifier as a URL: URLs are kept, paths are resolved against the
 * working directory. A missing file is a `TypeError` here, on the caller's
 * thread, rather than a failed import later in the worker. `option` names
 * the option the specifier came from (metrics when absent).
 */
export function moduleUrl(specifier: string, option?: string): string {
  if (/^[a-z][a-z0-9+.-]+:/i.test(specifier)) return new URL(specifier).href;
  const url = pathToFileURL(specifier);
  try {
    fs.statSync(url);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (option !== undefined) {
      throw new TypeError(
        `Module ${JSON.stringify(specifier)} of option ${option} cannot be read (${why}): ` +
          `give a URL, an absolute path or a path relative to the working directory ${process.cwd()}`,
      );
    }
    throw new TypeError(
      `Metrics module ${
        JSON.stringify(specifier)
      } cannot be read (${why}): check FLIGHTLOG_METRICS_MODULE or metrics.module`,
    );
  }
  return url.href;
}

/**
 * Not offered on Node.js yet: `metrics.serve` is refused; read
 * `log.metrics()` and serve it from the application's own HTTP server.
 */
export function serveHttp(
  _hostname: string,
  _port: number,
  _handler: (req: Request) => Response | Promise<Response>,
): HttpListener {
  // The message's start tells startMetricsServer() that no other port would do.
  throw new TypeError(
    "Option metrics.serve is not available on Node.js yet: serve the text of log.metrics() " +
      "from your own HTTP server, or run under Deno",
  );
}

/** The browser's unload spill (see `platform/browser.ts`); a process has exit hooks instead. */
export function openSpill(_dir: string): Spill | null {
  return null;
}

/** The browser's early unload spill (see `platform/browser.ts`); a process has none. */
export function watchLeaving(_spill: () => void): () => void {
  return () => {};
}

// ---------------------------------------------------------------------------
// A store for one run, and what the figures were measured on.

/** A new directory under the system's temporary directory, removed with everything in it. */
export async function openTempStore(): Promise<TempStore> {
  const dir = await fs.promises.mkdtemp(`${os.tmpdir()}/flightlog-bench-`);
  return { dir, remove: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}

/** Node.js's versions, the system it runs on, and the CPU. */
export function describeRuntime(): Promise<{ runtime: RuntimeInfo; cpu: CpuInfo }> {
  const cpus = os.cpus();
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  return Promise.resolve({
    runtime: {
      name: "node",
      version: process.versions.node,
      engine: `V8 ${process.versions.v8}`,
      os: `${process.platform}-${process.arch}`,
      user_agent: nav?.userAgent ?? null,
    },
    cpu: {
      logical_cpus: os.availableParallelism?.() ?? (cpus.length || null),
      model: cpus[0]?.model.trim() || "unknown",
    },
  });
}
