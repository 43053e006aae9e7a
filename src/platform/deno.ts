/**
 * Everything Deno-specific behind one small module: the worker thread, exit
 * hooks, timers that must not keep the process alive, and the segment-file
 * store. A browser build swaps this module for its own.
 *
 * The worker is a `node:worker_threads` Worker because it can be `unref()`ed:
 * a Deno web Worker keeps the process alive until terminated, so a script that
 * logs and reaches its end would hang.
 *
 * @module
 */
import { cpus } from "node:os";
import type { WorkerInit } from "../worker/api.ts";
import type { Store } from "../worker/consumer.ts";
import type { StoreOpenOptions } from "../worker/serve.ts";
import { StoreLockedError } from "../store/errors.ts";
import { lockStoreDir } from "../store/lock.ts";
import { SegmentStore } from "../store/segment_store.ts";
import type { Spill } from "../wire/spill_text.ts";
import type { CpuInfo, HttpListener, RuntimeInfo, TempStore, WorkerHandle } from "./types.ts";
import { startThread } from "./_node_port.ts";
import { cpuModelOf } from "./_cpuinfo.ts";
import { ExitHooks, signalListener } from "./_exit_hooks.ts";

export type { HttpListener, WorkerHandle } from "./types.ts";

/** True when a worker thread can be started. */
export function hasWorkers(): boolean {
  return true;
}

/** True when SharedArrayBuffer is usable. */
export function hasSharedMemory(): boolean {
  return typeof SharedArrayBuffer === "function";
}

/** True when this thread may block in `Atomics.wait` (Deno: every thread). */
export function canWait(): boolean {
  return true;
}

// The npm build (scripts/build.ts) defines this: its worker bundle, beside the chunk that starts it.
declare const __FLIGHTLOG_DENO_WORKER__: string | undefined;
const WORKER_MODULE = typeof __FLIGHTLOG_DENO_WORKER__ === "string"
  ? __FLIGHTLOG_DENO_WORKER__
  : "../../workers/flightlog_worker.ts";

/** The worker module: `url` (a URL, or a path from the working directory), else flightlog's own. */
function workerModule(url: string | URL | undefined): URL {
  let module: URL;
  if (url === undefined) module = new URL(WORKER_MODULE, import.meta.url);
  else if (url instanceof URL || /^[a-z][a-z0-9+.-]+:/i.test(url)) module = new URL(url);
  else {
    module = new URL("file://");
    module.pathname = url.startsWith("/") ? url : `${Deno.cwd()}/${url}`;
  }
  if (module.protocol === "file:" || module.protocol === "data:") return module;
  // Deno's node:worker_threads starts only file: and data: modules; flightlog
  // imported from JSR is https:, so a one-line data: module imports it.
  const source = `import ${JSON.stringify(module.href)};`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
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
  Deno.unrefTimer(id as unknown as number);
}

/** Opens the segment-file store in `dir`. */
export function openStore(dir: string, options: StoreOpenOptions): Store {
  return SegmentStore.open(dir, options);
}

/**
 * Takes the store directory's lock for this process until the returned
 * function is called (docs/internals.md "The lock"), or returns
 * null when it cannot be taken here (no permission): the worker then takes
 * it itself and reports the failure. Another holder is a
 * {@linkcode StoreLockedError}, thrown.
 */
export function lockStore(dir: string): (() => void) | null {
  try {
    const lock = lockStoreDir(dir);
    return () => lock.release();
  } catch (err) {
    if (err instanceof StoreLockedError) throw err;
    return null;
  }
}

// ---------------------------------------------------------------------------
// Deno has no API that lists signal listeners, so the application's are
// tracked from the moment this module is evaluated: Deno.addSignalListener
// and removeSignalListener are wrapped (node:process's process.on("SIGINT")
// goes through them too). Listeners added before, e.g. by a module imported
// ahead of flightlog, are not seen. Every copy of flightlog in the process
// shares one wrapper and skips the listeners any copy marked as its own.

const OWN = Symbol.for("flightlog.ownSignalListener");
const TRACKED = Symbol.for("flightlog.appSignalListeners");

type SignalFn = typeof Deno.addSignalListener & {
  [TRACKED]?: Map<string, Set<() => void>>;
};

function markOwn(listener: () => void): void {
  (listener as { [OWN]?: true })[OWN] = true;
}

function isOwn(listener: () => void): boolean {
  return (listener as { [OWN]?: true })[OWN] === true;
}

const appSignalListeners: Map<string, Set<() => void>> = trackSignalListeners();

function trackSignalListeners(): Map<string, Set<() => void>> {
  if (typeof Deno.addSignalListener !== "function") return new Map();
  const current = Deno.addSignalListener as SignalFn;
  const shared = current[TRACKED];
  if (shared !== undefined) return shared;
  const listeners = new Map<string, Set<() => void>>();
  const add = Deno.addSignalListener.bind(Deno);
  const remove = Deno.removeSignalListener.bind(Deno);
  const wrappedAdd: SignalFn = (signal, handler) => {
    add(signal, handler);
    if (isOwn(handler)) return;
    let set = listeners.get(signal);
    if (set === undefined) listeners.set(signal, set = new Set());
    set.add(handler);
  };
  wrappedAdd[TRACKED] = listeners;
  try {
    Deno.addSignalListener = wrappedAdd;
    Deno.removeSignalListener = (signal, handler) => {
      remove(signal, handler);
      listeners.get(signal)?.delete(handler);
    };
  } catch {
    // A frozen Deno namespace: no listener is seen, signals exit as before.
  }
  return listeners;
}

/** True when the application has its own listener for `signal` (see above). */
function appListens(signal: Deno.Signal): boolean {
  return (appSignalListeners.get(signal)?.size ?? 0) > 0;
}

// ---------------------------------------------------------------------------
// Exit hooks (src/platform/_exit_hooks.ts).

const exitHooks: ExitHooks = new ExitHooks({
  install(run) {
    onExit = run;
    globalThis.addEventListener("unload", onExit);
    globalThis.addEventListener("error", onExit);
    globalThis.addEventListener("unhandledrejection", onExit);
    try {
      Deno.addSignalListener("SIGINT", onSigint);
      Deno.addSignalListener("SIGTERM", onSigterm);
      signalsInstalled = true;
    } catch {
      // Signals are not available (e.g. Windows SIGTERM, or a worker): other hooks remain.
    }
  },
  uninstall() {
    globalThis.removeEventListener("unload", onExit);
    globalThis.removeEventListener("error", onExit);
    globalThis.removeEventListener("unhandledrejection", onExit);
    if (signalsInstalled) {
      Deno.removeSignalListener("SIGINT", onSigint);
      Deno.removeSignalListener("SIGTERM", onSigterm);
      signalsInstalled = false;
    }
  },
});
let onExit: () => void = () => {};
let signalsInstalled = false;
const onSigint = signalListener(exitHooks, 130, () => appListens("SIGINT"), (c) => Deno.exit(c));
const onSigterm = signalListener(exitHooks, 143, () => appListens("SIGTERM"), (c) => Deno.exit(c));
markOwn(onSigint);
markOwn(onSigterm);

/**
 * Runs `flush` synchronously at process exit: end of script and `Deno.exit()`
 * (`unload`), an uncaught exception (`error`), an unhandled rejection, SIGINT
 * and SIGTERM. After a signal's flush, the process exits with 130 (SIGINT) or
 * 143 (SIGTERM) unless the application listens to that signal itself: then
 * exiting is left to it. Returns the function that removes the hook.
 * (`_spill` is the browser's unload spill: a process that exits has the
 * synchronous flush instead.)
 */
export function addExitHook(flush: () => void, _spill?: () => void): () => void {
  return exitHooks.add(flush);
}

// ---------------------------------------------------------------------------
// Console, environment, module paths and the /metrics listener.

/** An environment variable, or undefined when unset or not permitted. */
export function readEnv(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** True when the stream is a terminal. */
export function isTerminal(stream: "stdout" | "stderr"): boolean {
  try {
    return (stream === "stdout" ? Deno.stdout : Deno.stderr).isTerminal();
  } catch {
    return false;
  }
}

const consoleEncoder = new TextEncoder();

/** Writes `text` whole to stdout or stderr, synchronously (one call per batch of lines). */
export function writeConsole(stream: "stdout" | "stderr", text: string): void {
  const out = stream === "stdout" ? Deno.stdout : Deno.stderr;
  const bytes = consoleEncoder.encode(text);
  let off = 0;
  while (off < bytes.length) off += out.writeSync(bytes.subarray(off));
}

/**
 * A module specifier as a URL: URLs are kept, paths are resolved against the
 * working directory. A missing file is a `TypeError` here, on the caller's
 * thread, rather than a failed import later in the worker. `option` names
 * the option the specifier came from (metrics when absent).
 */
export function moduleUrl(specifier: string, option?: string): string {
  if (/^[a-z][a-z0-9+.-]+:/i.test(specifier)) return new URL(specifier).href;
  const path = specifier.startsWith("/") ? specifier : `${Deno.cwd()}/${specifier}`;
  try {
    Deno.statSync(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (option !== undefined) {
      throw new TypeError(
        `Module ${JSON.stringify(specifier)} of option ${option} cannot be read (${why}): ` +
          `give a URL, an absolute path or a path relative to the working directory ${Deno.cwd()}`,
      );
    }
    throw new TypeError(
      `Metrics module ${
        JSON.stringify(specifier)
      } cannot be read (${why}): check FLIGHTLOG_METRICS_MODULE or metrics.module`,
    );
  }
  const url = new URL("file://");
  url.pathname = path;
  return url.href;
}

/**
 * Serves `handler` on `hostname:port`. The listener does not keep the process
 * alive by itself (a script that logs still exits at its end).
 */
export function serveHttp(
  hostname: string,
  port: number,
  handler: (req: Request) => Response | Promise<Response>,
): HttpListener {
  const server = Deno.serve({ hostname, port, onListen: () => {} }, handler);
  server.unref();
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `http://${host}:${addr.port}`,
    close: () => server.shutdown(),
  };
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
  const dir = await Deno.makeTempDir({ prefix: "flightlog-bench-" });
  return { dir, remove: () => Deno.remove(dir, { recursive: true }) };
}

const CPUINFO = "/proc/cpuinfo";

/** Deno's versions, the target it was built for, and the CPU. */
export async function describeRuntime(): Promise<{ runtime: RuntimeInfo; cpu: CpuInfo }> {
  return {
    runtime: {
      name: "deno",
      version: Deno.version.deno,
      engine: `V8 ${Deno.version.v8}`,
      os: Deno.build.target,
      user_agent: navigator.userAgent,
    },
    cpu: { logical_cpus: navigator.hardwareConcurrency ?? null, model: await cpuModel() },
  };
}

// The model from `os.cpus()` (permission `sys: cpus`), else from /proc/cpuinfo, which Deno opens
// only with --allow-all; a Raspberry Pi's cores have no model name there, its board does.
async function cpuModel(): Promise<string> {
  try {
    // Naming the CPU is not worth a permission prompt.
    if (Deno.permissions.querySync({ name: "sys", kind: "cpus" }).state === "granted") {
      const model = cpus()[0]?.model.trim();
      if (model) return model;
    }
  } catch {
    // Not offered here: try the file.
  }
  try {
    if (Deno.permissions.querySync({ name: "read", path: CPUINFO }).state !== "granted") {
      return "unknown";
    }
    return cpuModelOf(await Deno.readTextFile(CPUINFO)) ?? "unknown";
  } catch {
    return "unknown"; // not Linux, or not --allow-all
  }
}
