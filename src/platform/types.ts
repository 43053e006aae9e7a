/**
 * The one seam between flightlog and its runtime. `deno.ts`, `node.ts` and
 * `browser.ts` each implement {@linkcode Platform} and export nothing else
 * (tests/platform/types_test.ts checks them), so the browser and Node.js
 * builds, which swap `deno.ts` for their own (scripts/build.ts), get the same
 * names with the same types. The transports take a `Platform` as a parameter.
 *
 * @module
 */
import type { Endpoint } from "comlink/dist/esm/comlink.mjs";
import type { WorkerInit } from "../worker/api.ts";
import type { Store } from "../worker/consumer.ts";
import type { StoreOpenOptions } from "../worker/serve.ts";
import type { Spill } from "../wire/spill_text.ts";

/** A started store worker. */
export interface WorkerHandle {
  endpoint: Endpoint;
  /**
   * Keeps the process alive while a call to the worker is in flight (a Deno
   * worker is unref()ed; a page has no process: a no-op). Returns the
   * release function.
   */
  hold(): () => void;
  /** Calls `cb` once the worker has ended (with its error, if it failed). */
  onExit(cb: (err: Error | null) => void): void;
  terminate(): Promise<void>;
}

/** A running HTTP listener. */
export interface HttpListener {
  /** Base URL, e.g. `http://127.0.0.1:9464`. */
  readonly url: string;
  /** Stops listening and waits for open requests. */
  close(): Promise<void>;
}

/** A store made for one run and removed after it (`measureOverhead()`'s end-to-end figure). */
export interface TempStore {
  /** The `dir` to give `createLogger()`: a new directory (Deno), a new IndexedDB name (browser). */
  readonly dir: string;
  /** Removes the store and everything in it; call it after the logger writing there is closed. */
  remove(): Promise<void>;
}

/** The runtime that figures were measured on. */
export interface RuntimeInfo {
  /** `"deno"`, `"node"` or `"browser"`. */
  name: "deno" | "node" | "browser";
  /**
   * Its version: `"2.9.6"` (Deno), `"20.20.2"` (Node.js), `"Chrome 156.0.0.0"` (from the user
   * agent), or null.
   */
  version: string | null;
  /** The JavaScript engine where the runtime names it (`"V8 15.0.245.2"`), else null. */
  engine: string | null;
  /**
   * Operating system and architecture (`"x86_64-unknown-linux-gnu"`, `"linux-x64"` on Node.js,
   * `"Linux x86_64"`), or null.
   */
  os: string | null;
  /** `navigator.userAgent`, or null where there is none. */
  user_agent: string | null;
}

/** The CPU that figures were measured on. */
export interface CpuInfo {
  /** Logical CPUs the runtime reports (`navigator.hardwareConcurrency`), or null. */
  logical_cpus: number | null;
  /** The model from `/proc/cpuinfo` where it is readable (Linux, Deno), else `"unknown"`. */
  model: string;
}

/**
 * What flightlog needs from its runtime (Deno, Node.js, a browser). Members are
 * function properties, not methods, so their parameters are checked strictly.
 */
export interface Platform {
  /** True when a worker thread can be started. */
  hasWorkers: () => boolean;
  /** True when SharedArrayBuffer is usable (a browser: the page is cross-origin isolated). */
  hasSharedMemory: () => boolean;
  /** True when this thread may block in `Atomics.wait`. */
  canWait: () => boolean;
  /** Starts the store worker (from `url`, the `workerUrl` option, when given). */
  startWorker: (init: WorkerInit, url?: string | URL) => WorkerHandle;
  /**
   * Takes the store's lock for this process until the returned function is
   * called, or returns null where it cannot (the worker then takes it).
   * Throws the `StoreLockedError` when another writer holds it.
   */
  lockStore: (dir: string) => (() => void) | null;
  /** Keeps a timer from holding the process open. */
  unrefTimer: (id: ReturnType<typeof setTimeout>) => void;
  /** Opens a synchronous store on this thread (the `"inline"` transport). */
  openStore: (dir: string, options: StoreOpenOptions) => Store;
  /**
   * Runs `flush` synchronously when the process exits or the page is hidden,
   * `spill` first when the page goes away; returns the function that removes it.
   */
  addExitHook: (flush: () => void, spill?: () => void) => () => void;
  /** Runs `spill` when the page starts leaving, until the returned function is called. */
  watchLeaving: (spill: () => void) => () => void;
  /** Where a page going away writes what its worker has not committed (null: nowhere). */
  openSpill: (dir: string) => Spill | null;
  /** Writes `text` whole to stdout or stderr (the browser console). */
  writeConsole: (stream: "stdout" | "stderr", text: string) => void;
  /** An environment variable, or undefined when unset or not permitted. */
  readEnv: (name: string) => string | undefined;
  /** True when the stream is a terminal. */
  isTerminal: (stream: "stdout" | "stderr") => boolean;
  /** A module specifier as a URL. */
  moduleUrl: (specifier: string, option?: string) => string;
  /** Creates an empty store to be removed after one run. */
  openTempStore: () => Promise<TempStore>;
  /** The runtime, its version and the CPU, as far as this runtime can tell. */
  describeRuntime: () => Promise<{ runtime: RuntimeInfo; cpu: CpuInfo }>;
  /** Serves `handler` on `hostname:port` (the `/metrics` listener). */
  serveHttp: (
    hostname: string,
    port: number,
    handler: (req: Request) => Response | Promise<Response>,
  ) => HttpListener;
}
