/**
 * Everything browser-specific behind one small module, the browser build's
 * stand-in for `platform/deno.ts` (esbuild swaps one for the other, see
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
import type { StoreOptions } from "../store/options.ts";
import type { CpuInfo, HttpListener, RuntimeInfo, TempStore, WorkerHandle } from "./types.ts";
import type { WorkerInit } from "../worker/api.ts";
import { WorkerStartError } from "../worker/start_failure.ts";
import type { Store } from "../worker/consumer.ts";
import { DB_VERSION, type SchemaTarget, upgradeSchema } from "../store/idb_schema.ts";
import { type PendingBatch, SPILL_VERSION } from "../wire/sab_spill.ts";
import {
  readSpills,
  type Spill,
  spillEntries,
  type SpillPlace,
  spillPrefix,
} from "../wire/spill_text.ts";

export type { HttpListener, WorkerHandle } from "./types.ts";

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
 * resolved against the page) and sends it the start-up data. A worker whose
 * script did not load or run (a plain `error` Event, where a running
 * worker's uncaught exception is an ErrorEvent with a message) ends with a
 * {@linkcode WorkerStartError} that says why, once {@linkcode whyNotStarted}
 * has looked.
 */
export function startWorker(init: WorkerInit, custom?: string | URL): WorkerHandle {
  const url = workerUrl(custom);
  const worker = new Worker(url, { type: "module", name: "flightlog" });
  const exitCbs: ((err: Error | null) => void)[] = [];
  let failed: Error | null = null;
  let ending = false;
  const end = (err: Error): void => {
    failed ??= err;
    for (const cb of exitCbs.splice(0)) cb(failed);
  };
  worker.addEventListener("error", (ev: Event) => {
    if (ending) return;
    ending = true;
    const message = (ev as Partial<ErrorEvent>).message;
    if (typeof message === "string" && message !== "") {
      end(new Error(`The flightlog worker failed: ${message}`));
    } else void whyNotStarted(String(url)).then(end);
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

/**
 * Why a worker script did not start, found by fetching it once more (the
 * error event says nothing): an HTTP error status (transient: 408, 429, 5xx),
 * a type that is not JavaScript (a server's HTML fallback page), no answer at
 * all (transient), or a script that loaded and still did not run.
 */
export async function whyNotStarted(url: string): Promise<WorkerStartError> {
  const cure = url.startsWith("blob:")
    ? "allow blob: workers (Content-Security-Policy worker-src blob:) or serve flightlog_worker.js next to flightlog.js and load that bundle"
    : "serve flightlog_worker.js next to flightlog.js, or load flightlog.inline.js, which needs no second file";
  const shown = url.startsWith("blob:") ? `${url} (inlined in flightlog.inline.js)` : url;
  let res: Response;
  try {
    res = await fetch(url, { cache: "no-store" });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return new WorkerStartError(shown, `could not be fetched (${why}); check the network`, true);
  }
  void res.body?.cancel().catch(() => {});
  if (!res.ok) {
    // A server error or a throttle may pass; a missing or forbidden script will not.
    const transient = res.status === 408 || res.status === 429 || res.status >= 500;
    return new WorkerStartError(
      shown,
      `answered HTTP ${res.status}${res.statusText === "" ? "" : ` ${res.statusText}`}; ${
        transient ? "check the server" : cure
      }`,
      transient,
    );
  }
  const type = res.headers.get("content-type") ?? "";
  if (!/javascript|ecmascript/i.test(type)) {
    return new WorkerStartError(
      shown,
      `is served as ${JSON.stringify(type)}, not JavaScript (a fallback page?); ${cure}`,
      false,
    );
  }
  return new WorkerStartError(
    shown,
    `loaded but did not run: a Content-Security-Policy (worker-src, script-src) that blocks it, or an error in it (see the browser console); ${cure}`,
    false,
  );
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
// The page cannot wait for its worker, whose writes die with the page. On
// pagehide the transport first spills what its worker has not committed
// ("message": the batches posted and not acknowledged, then the unsent one;
// "sab": the ring from STORED to HEAD, src/wire/sab_spill.ts) where the next page
// finds it: into localStorage, the one synchronous storage (in parts of
// 16 KiB, src/wire/spill_text.ts), and only what localStorage refuses into the
// database's `pending` store, on a connection opened beforehand. Measured in
// Chromium (bench/browser_pagehide.ts): a `pending` write started then was
// lost in 2 of 8 reloads while the worker was busy writing, and so was a
// single localStorage value of 200 KB or more in a cross-origin navigation;
// parts of 16 KiB were all kept. The next page takes the localStorage parts
// and hands them to its worker, which stores them and `pending` first.

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

/**
 * Runs `spill` on `beforeunload`, until the returned function is called. A
 * navigation the page starts itself (`location.href = ...`, `reload()`)
 * dispatches `beforeunload` within that call, while the page is whole,
 * whereas `pagehide` comes once the next page is ready: for a cross-origin
 * navigation, in a renderer the browser ends soon after, and that may be too
 * soon for a page still starting its worker (bench/browser_pagehide.ts). A
 * `beforeunload` listener makes a page ineligible for the back/forward cache
 * in some browsers, so the transport keeps it only until its worker is ready.
 */
export function watchLeaving(spill: () => void): () => void {
  const target = globalThis as unknown as Partial<EventTargetLike>;
  if ((globalThis as { document?: unknown }).document === undefined) return () => {};
  const fn = (): void => {
    try {
      spill();
    } catch {
      // Never in the way of a navigation.
    }
  };
  target.addEventListener?.("beforeunload", fn);
  return () => target.removeEventListener?.("beforeunload", fn);
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
  const local = localStorageOrNull();
  let written = 0;
  // All parts of the batch, or none (the ones written are removed again).
  const writeLocal = (batch: PendingBatch, now: number): boolean => {
    if (local === null) return false;
    const entries = spillEntries(dir, batch, now, written++);
    for (let i = 0; i < entries.length; i++) {
      try {
        local.setItem(entries[i]!.key, entries[i]!.value);
      } catch {
        // Past localStorage's quota, or storage blocked.
        for (let j = 0; j < i; j++) local.removeItem(entries[j]!.key);
        return false;
      }
    }
    return true;
  };
  return {
    write(batches, lost) {
      let place: SpillPlace = null;
      const now = Date.now();
      const refused: PendingBatch[] = [];
      for (const batch of batches) {
        if (writeLocal(batch, now)) place ??= "localStorage";
        else refused.push(batch);
      }
      if (refused.length === 0) return place;
      if (db !== null) {
        const tx = db.transaction("pending", "readwrite", { durability: "strict" });
        const pending = tx.objectStore("pending");
        // Versioned: a page of an older format leaves the row (docs/internals.md "Unload spill").
        for (const batch of refused) pending.put({ ...batch, v: SPILL_VERSION });
        tx.commit?.(); // no more requests: commit now, not when this task ends
        return place ?? "indexeddb";
      }
      for (const batch of refused) {
        const loss = lost?.(batch) ?? null;
        if (loss !== null && writeLocal(loss, now)) place ??= "localStorage";
      }
      return place;
    },
    claim() {
      if (local === null) return [];
      const prefix = spillPrefix(dir);
      const entries: { key: string; value: string }[] = [];
      try {
        for (let i = 0; i < local.length; i++) {
          const key = local.key(i);
          const value = key === null || !key.startsWith(prefix) ? null : local.getItem(key);
          if (value !== null) entries.push({ key: key!, value });
        }
        const { batches, taken } = readSpills(entries);
        for (const key of taken) local.removeItem(key);
        return batches;
      } catch {
        return [];
      }
    },
    close() {
      closed = true;
      db?.close();
      db = null;
    },
  };
}

interface LocalStorageLike {
  readonly length: number;
  key(i: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

// Reading the property throws where storage is blocked (e.g. a sandboxed frame).
function localStorageOrNull(): LocalStorageLike | null {
  try {
    return (globalThis as { localStorage?: LocalStorageLike }).localStorage ?? null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Environment, console, module paths and the /metrics listener: what
// `platform/deno.ts` offers a process, reduced to what a page has.

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
export function moduleUrl(specifier: string, _option?: string): string {
  return new URL(specifier, globalThis.location?.href).href;
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

// ---------------------------------------------------------------------------
// A store for one run, and what the figures were measured on.

interface DeleteRequest {
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
  error: unknown;
}

/**
 * A new IndexedDB database name; `remove()` deletes the database and any
 * unload spill left under its name in localStorage.
 */
export function openTempStore(): Promise<TempStore> {
  const dir = `flightlog-bench-${crypto.randomUUID()}`;
  return Promise.resolve({
    dir,
    async remove() {
      const local = localStorageOrNull();
      const prefix = spillPrefix(dir);
      try {
        for (let i = (local?.length ?? 0) - 1; i >= 0; i--) {
          const key = local!.key(i);
          if (key?.startsWith(prefix)) local!.removeItem(key);
        }
      } catch {
        // Storage blocked: nothing was spilled there either.
      }
      const factory = (globalThis as { indexedDB?: { deleteDatabase(n: string): DeleteRequest } })
        .indexedDB;
      if (factory === undefined) return;
      await new Promise<void>((resolve, reject) => {
        // A blocked deletion completes once the last connection closes: wait for it.
        const req = factory.deleteDatabase(dir);
        req.onsuccess = () => resolve();
        req.onerror = () => reject(req.error);
      });
    },
  });
}

// "Chrome/156.0.7000.1", "Firefox/140.0", "Version/18.2 Safari/…": the first found, in this order.
const BROWSERS: readonly [string, string][] = [
  ["Edg", "Edge"],
  ["HeadlessChrome", "Chrome"],
  ["Chrome", "Chrome"],
  ["Firefox", "Firefox"],
  ["Version", "Safari"],
];

/** The browser and its version as the user agent says, the platform, the CPU threads. */
export function describeRuntime(): Promise<{ runtime: RuntimeInfo; cpu: CpuInfo }> {
  const nav = globalThis.navigator as Navigator | undefined;
  const ua = nav?.userAgent ?? null;
  let version: string | null = null;
  for (const [token, name] of BROWSERS) {
    const m = ua?.match(new RegExp(`\\b${token}/([\\d.]+)`));
    if (m) {
      version = `${name} ${m[1]}`;
      break;
    }
  }
  return Promise.resolve({
    runtime: { name: "browser", version, engine: null, os: nav?.platform || null, user_agent: ua },
    // A page cannot read the CPU's model.
    cpu: { logical_cpus: nav?.hardwareConcurrency ?? null, model: "unknown" },
  });
}
