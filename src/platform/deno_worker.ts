/**
 * The Deno platform inside the store worker, which `workers/flightlog_worker.ts`
 * wires into `serveWorker()`: the start-up data and the endpoint of a
 * `node:worker_threads` thread (see `deno.ts` for why), the segment-file
 * store, the uplink's files and gzip, and stdout/stderr.
 *
 * @module
 */
import * as Comlink from "comlink/dist/esm/comlink.mjs";
import { parentPort, workerData } from "node:worker_threads";
import type { WorkerInit, WorkerNotice } from "../worker/api.ts";
import type { ServeWorkerOptions, StoreOpener } from "../worker/serve.ts";
import { SegmentStore } from "../store/segment_store.ts";
import { denoUplinkFiles } from "../uplink/_files_deno.ts";
import { gzipDeno } from "../uplink/_gzip_deno.ts";
import { writeConsole } from "./deno.ts";
import { portEndpoint } from "./_node_port.ts";

/** Opens the segment-file store. */
export const openSegmentStore: StoreOpener = (dir, options) => SegmentStore.open(dir, options);

/** Deno's pieces of `serveWorker()`, but for the notices (see {@linkcode exposeWorker}). */
export const denoServeOptions: Omit<ServeWorkerOptions, "notify"> = {
  writeConsole,
  openUplinkFiles: denoUplinkFiles,
  gzip: gzipDeno,
};

/**
 * In the worker thread: builds the API with `serve` from the start-up data
 * and serves it to the front end over comlink; `notify` posts a notice
 * beside comlink's answers (they carry an id; comlink ignores the notices).
 */
export function exposeWorker(
  serve: (init: WorkerInit, notify: (notice: WorkerNotice) => void) => object,
): void {
  if (parentPort === null) throw new Error("The flightlog worker must run in a worker thread");
  const endpoint = portEndpoint(parentPort);
  Comlink.expose(
    serve(workerData as WorkerInit, (notice) => endpoint.postMessage(notice)),
    endpoint,
  );
}
