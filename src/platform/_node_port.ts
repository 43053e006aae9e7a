/**
 * `node:worker_threads` for the Deno and Node.js platforms: the started
 * thread as a {@linkcode WorkerHandle} (`deno.ts` and `node.ts` start it),
 * and comlink over a thread's port (both ends; `deno_worker.ts` and
 * `node_worker.ts` serve in the thread).
 *
 * @module
 */
import * as Comlink from "comlink/dist/esm/comlink.mjs";
import type { Endpoint } from "comlink/dist/esm/comlink.mjs";
import { parentPort, Worker, workerData } from "node:worker_threads";
import type { WorkerInit, WorkerNotice } from "../worker/api.ts";
import type { WorkerHandle } from "./types.ts";

/** What a `node:worker_threads` Worker and MessagePort have in common. */
export interface NodePort {
  // deno-lint-ignore no-explicit-any
  postMessage(message: unknown, transfer?: any): void;
  on(type: "message", listener: (data: unknown) => void): unknown;
  off(type: "message", listener: (data: unknown) => void): unknown;
}

/**
 * The port as a comlink endpoint: comlink expects DOM-style message events,
 * node:worker_threads delivers the data itself, so each message is wrapped as
 * `{ data }`.
 */
export function portEndpoint(port: NodePort): Endpoint {
  const wrapped = new Map<EventListenerOrEventListenerObject, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) =>
      port.postMessage(message, transfer),
    addEventListener(_type: string, listener: EventListenerOrEventListenerObject) {
      const fn = (data: unknown) => {
        const ev = { data } as MessageEvent;
        if (typeof listener === "function") listener(ev);
        else listener.handleEvent(ev);
      };
      wrapped.set(listener, fn);
      port.on("message", fn);
    },
    removeEventListener(_type: string, listener: EventListenerOrEventListenerObject) {
      const fn = wrapped.get(listener);
      if (fn !== undefined) {
        port.off("message", fn);
        wrapped.delete(listener);
      }
    },
  };
}

/**
 * Starts `module` as a worker thread with `init` as its `workerData`,
 * unref()ed so it never keeps the process alive: a script that logs and
 * reaches its end exits (its exit hook flushes first).
 */
export function startThread(module: URL, init: WorkerInit): WorkerHandle {
  const worker = new Worker(module, { workerData: init });
  worker.unref();
  let holds = 0;
  let exited = false;
  let error: Error | null = null;
  const exitCbs: ((err: Error | null) => void)[] = [];
  const exitedPromise = new Promise<void>((resolve) => {
    worker.on("error", (err: unknown) => {
      error = err instanceof Error ? err : new Error(String(err));
    });
    worker.on("exit", () => {
      exited = true;
      for (const cb of exitCbs) cb(error);
      resolve();
    });
  });
  return {
    endpoint: portEndpoint(worker),
    hold() {
      if (holds++ === 0) worker.ref();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (--holds === 0) worker.unref();
      };
    },
    onExit(cb) {
      if (exited) cb(error);
      else exitCbs.push(cb);
    },
    async terminate() {
      if (!exited) {
        await worker.terminate();
        await exitedPromise;
      }
    },
  };
}

/**
 * In the worker thread: builds the API with `serve` from the start-up data
 * and serves it to the front end over comlink; `notify` posts a notice
 * beside comlink's answers (they carry an id; comlink ignores the notices).
 */
export function exposeThread(
  serve: (init: WorkerInit, notify: (notice: WorkerNotice) => void) => object,
): void {
  if (parentPort === null) throw new Error("The flightlog worker must run in a worker thread");
  const endpoint = portEndpoint(parentPort);
  Comlink.expose(
    serve(workerData as WorkerInit, (notice) => endpoint.postMessage(notice)),
    endpoint,
  );
}
