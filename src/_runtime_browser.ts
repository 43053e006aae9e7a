/**
 * Everything browser-specific behind one small module, the browser build's
 * stand-in for `_runtime_deno.ts` (esbuild swaps one for the other, see
 * `tests/support/build.ts`): a module Worker, page-lifecycle flushes instead
 * of exit hooks, and no synchronous store.
 *
 * The worker is `flightlog_worker.js` next to the bundle, or, in the
 * `flightlog.inline.js` bundle, its source inlined and started from a Blob
 * URL for hosts that cannot serve a second file.
 *
 * @module
 */
import type { Endpoint } from "comlink/dist/esm/comlink.mjs";
import type { StoreOptions } from "./logger.ts";
import type { WorkerInit } from "./worker_api.ts";
import type { Store } from "./worker_core.ts";

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

function workerUrl(): URL | string {
  if (__FLIGHTLOG_WORKER_SOURCE__ !== null) {
    inlineUrl ??= URL.createObjectURL(
      new Blob([__FLIGHTLOG_WORKER_SOURCE__], { type: "text/javascript" }),
    );
    return inlineUrl;
  }
  return new URL("./flightlog_worker.js", import.meta.url);
}

/** Starts the store worker and sends it the start-up data. */
export function startWorker(init: WorkerInit): WorkerHandle {
  const worker = new Worker(workerUrl(), { type: "module", name: "flightlog" });
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
// The page cannot wait, so the hook only hands events on to the worker.

const hooks = new Set<() => void>();

interface EventTargetLike {
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

function runHooks(): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch {
      // One logger's failed flush must not stop the others'.
    }
  }
}

const onVisibility = (): void => {
  const doc = (globalThis as { document?: { visibilityState?: string } }).document;
  if (doc?.visibilityState === "hidden") runHooks();
};

/**
 * Runs `flush` on `visibilitychange` to hidden and on `pagehide`. Returns the
 * function that removes the hook.
 */
export function addExitHook(flush: () => void): () => void {
  const doc = (globalThis as { document?: EventTargetLike }).document;
  if (doc === undefined) return () => {}; // in a worker: no page lifecycle
  hooks.add(flush);
  if (hooks.size === 1) {
    doc.addEventListener("visibilitychange", onVisibility);
    (globalThis as unknown as EventTargetLike).addEventListener("pagehide", runHooks);
  }
  return () => {
    if (!hooks.delete(flush) || hooks.size > 0) return;
    doc.removeEventListener("visibilitychange", onVisibility);
    (globalThis as unknown as EventTargetLike).removeEventListener("pagehide", runHooks);
  };
}
