/**
 * Everything browser-specific behind one small module, the browser build's
 * stand-in for `_runtime_deno.ts` (esbuild swaps one for the other, see
 * `scripts/build.ts`): a module Worker, page-lifecycle flushes instead
 * of exit hooks, and no synchronous store.
 *
 * The worker is the `workerUrl` option when given, else `flightlog_worker.js`
 * next to the bundle, or, in the `flightlog.inline.js` bundle, its source
 * inlined and started from a Blob URL for hosts that cannot serve a second file.
 *
 * @module
 */
import type { Endpoint } from "comlink/dist/esm/comlink.mjs";
import type { StoreOptions } from "./logger.ts";
import type { WorkerInit } from "./worker_api.ts";
import type { Store } from "./worker_core.ts";
import {
  DB_VERSION,
  type PendingBatch,
  type SchemaTarget,
  upgradeSchema,
} from "./store/idb_schema.ts";

/** Set by the build: the worker's source (inline bundle) or null (separate file). */
declare const __FLIGHTLOG_WORKER_SOURCE__: string | null;

/** The first message to the worker carries its start-up data. */
export interface InitMessage {
  type: "flightlog-init";
  init: WorkerInit;
}

/** True when a worker thread can be started. */
export function hasWorkers(): boolean {
  return typeof Worker === "function";
}

/** True when SharedArrayBuffer is usable: the page is cross-origin isolated. */
export function hasSharedMemory(): boolean {
  return typeof SharedArrayBuffer === "function" &&
    (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

/** True when this thread may block in `Atomics.wait`: a worker, never a page's main thread. */
export function canWait(): boolean {
  return typeof (globalThis as { document?: unknown }).document === "undefined";
}

/** A started worker. */
export interface WorkerHandle {
  endpoint: Endpoint;
  /** Pages have no process to keep alive: a no-op. */
  hold(): () => void;
  onExit(cb: (err: Error | null) => void): void;
  terminate(): Promise<void>;
}

let inlineUrl: string | null = null;

function workerUrl(custom: string | URL | undefined): URL | string {
  if (custom !== undefined) return custom;
  if (__FLIGHTLOG_WORKER_SOURCE__ !== null) {
    inlineUrl ??= URL.createObjectURL(
      new Blob([__FLIGHTLOG_WORKER_SOURCE__], { type: "text/javascript" }),
    );
    return inlineUrl;
  }
  return new URL("./flightlog_worker.js", import.meta.url);
}

/**
 * Starts the store worker (from `url` when given: the `workerUrl` option,
 * resolved against the page) and sends it the start-up data.
 */
export function startWorker(init: WorkerInit, url?: string | URL): WorkerHandle {
  const worker = new Worker(workerUrl(url), { type: "module", name: "flightlog" });
  const exitCbs: ((err: Error | null) => void)[] = [];
  let failed: Error | null = null;
  worker.addEventListener("error", (ev: Event) => {
    const message = (ev as ErrorEvent).message || "the flightlog worker could not start";
    failed ??= new Error(`The flightlog worker failed: ${message}`);
    for (const cb of exitCbs.splice(0)) cb(failed);
  });
  worker.postMessage({ type: "flightlog-init", init } satisfies InitMessage);
  return {
    endpoint: worker as unknown as Endpoint,
    hold: () => () => {},
    onExit(cb) {
      if (failed !== null) cb(failed);
      else exitCbs.push(cb);
    },
    terminate() {
      worker.terminate();
      return Promise.resolve();
    },
  };
}

/** IndexedDB has no directory lock to hold: the worker opens the database itself. */
export function lockStore(_dir: string): (() => void) | null {
  return null;
}

/** Browsers have no unref: a timer never keeps a page alive. */
export function unrefTimer(_id: ReturnType<typeof setTimeout>): void {}

/** The `"inline"` transport needs a synchronous store, which browsers lack. */
export function openStore(_dir: string, _options: StoreOptions): Store {
  throw new TypeError(
    'The "inline" transport is not available in browsers (IndexedDB is asynchronous): use "auto"',
  );
}

// ---------------------------------------------------------------------------
// Page lifecycle: flush when the page is hidden (tab switch, minimize, the
// first step of a mobile kill) and on pagehide (navigation, reload, close).
// The page cannot wait for its worker. On pagehide, the transport first
// spills what its worker may not have committed ("message": the unsent
// batch; "sab": the ring from STORED to HEAD, src/sab_spill.ts) into the
// database's `pending` store itself:
// a write the page starts during pagehide on an already open connection is
// committed even though the page and its worker are torn down right after
// (measured in Chromium: 5 of 5 reloads), whereas a batch posted to the
// worker then was lost. The next worker to open the database stores it.

interface Hook {
  flush: () => void;
  spill: (() => void) | undefined;
}

const hooks = new Set<Hook>();

interface EventTargetLike {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

function runHooks(spill: boolean): void {
  for (const hook of hooks) {
    try {
      if (spill) hook.spill?.();
      hook.flush();
    } catch {
      // One logger's failed flush must not stop the others'.
    }
  }
}

const onVisibility = (): void => {
  const doc = (globalThis as { document?: { visibilityState?: string } }).document;
  if (doc?.visibilityState === "hidden") runHooks(false);
};
const onPagehide = (): void => runHooks(true);

/**
 * Runs `flush` on `visibilitychange` to hidden and on `pagehide`, and
 * `spill` first on `pagehide`. Returns the function that removes the hook.
 */
export function addExitHook(flush: () => void, spill?: () => void): () => void {
  const doc = (globalThis as { document?: EventTargetLike }).document;
  if (doc === undefined) return () => {}; // in a worker: no page lifecycle
  const hook: Hook = { flush, spill };
  hooks.add(hook);
  if (hooks.size === 1) {
    doc.addEventListener("visibilitychange", onVisibility);
    (globalThis as unknown as EventTargetLike).addEventListener("pagehide", onPagehide);
  }
  return () => {
    if (!hooks.delete(hook) || hooks.size > 0) return;
    doc.removeEventListener("visibilitychange", onVisibility);
    (globalThis as unknown as EventTargetLike).removeEventListener("pagehide", onPagehide);
  };
}

/** Writes a batch into the database's `pending` store, synchronously started. */
export interface Spill {
  /** Starts the write; false when the connection is not open (yet, or any more). */
  write(batch: PendingBatch): boolean;
  /** Closes the connection. */
  close(): void;
}

// Deno's type libraries lack IndexedDB; these are the few members used here.
interface RawDb extends SchemaTarget {
  transaction(
    store: string,
    mode: "readwrite",
    options: { durability: "strict" },
  ): { objectStore(name: string): { put(value: unknown): unknown }; commit?(): void };
  close(): void;
  onversionchange: (() => void) | null;
}
interface RawOpen {
  result: RawDb;
  onupgradeneeded: (() => void) | null;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}

/**
 * Opens the database `dir` on this thread, so a batch can be spilled into it
 * during `pagehide` (when there is no time to open it).
 */
export function openSpill(dir: string): Spill | null {
  const factory = (globalThis as { indexedDB?: { open(name: string, v: number): RawOpen } })
    .indexedDB;
  if (factory === undefined) return null;
  let db: RawDb | null = null;
  let closed = false;
  const req = factory.open(dir, DB_VERSION);
  req.onupgradeneeded = () => upgradeSchema(req.result);
  req.onsuccess = () => {
    if (closed) return req.result.close();
    db = req.result;
    // Another tab upgrading the schema: let it.
    db.onversionchange = () => {
      db?.close();
      db = null;
    };
  };
  req.onerror = () => {};
  return {
    write(batch) {
      if (db === null) return false;
      const tx = db.transaction("pending", "readwrite", { durability: "strict" });
      tx.objectStore("pending").put(batch);
      tx.commit?.(); // no more requests: commit now, not when this task ends
      return true;
    },
    close() {
      closed = true;
      db?.close();
      db = null;
    },
  };
}

// ---------------------------------------------------------------------------
// Environment, console, module paths, the /metrics listener and the uplink's
// files: what `_runtime_deno.ts` offers a process, reduced to what a page has.

/** A page has no environment variables. */
export function readEnv(_name: string): string | undefined {
  return undefined;
}

/** The browser console is not a terminal (no ANSI colors). */
export function isTerminal(_stream: "stdout" | "stderr"): boolean {
  return false;
}

/** Console output goes to the browser console, one call per batch of lines. */
export function writeConsole(stream: "stdout" | "stderr", text: string): void {
  const line = text.endsWith("\n") ? text.slice(0, -1) : text;
  if (stream === "stdout") console.log(line);
  else console.error(line);
}

/** A module specifier as a URL, resolved against the page. */
export function moduleUrl(specifier: string): string {
  return new URL(specifier, globalThis.location?.href).href;
}

/** A running HTTP listener (none in a browser). */
export interface HttpListener {
  /** Base URL. */
  readonly url: string;
  /** Stops listening. */
  close(): Promise<void>;
}

/** A page cannot listen: `metrics.serve` is refused; read `log.metrics()` instead. */
export function serveHttp(
  _hostname: string,
  _port: number,
  _handler: (req: Request) => Response | Promise<Response>,
): HttpListener {
  throw new TypeError(
    "Option metrics.serve needs a server runtime such as Deno: in a browser call log.metrics()",
  );
}

/** The uplink's position files are not available in a browser yet. */
export function openUplinkFiles(_dir: string): never {
  throw new TypeError(
    "Option uplink is not available in the browser build yet: ship from a Deno process",
  );
}
