/**
 * The Deno platform inside the store worker, which `workers/flightlog_worker.ts`
 * wires into `serveWorker()`: the start-up data and the endpoint of a
 * `node:worker_threads` thread (see `deno.ts` for why), the segment-file
 * store, the uplink's files and gzip, and stdout/stderr.
 *
 * @module
 */
import type { ServeWorkerOptions, StoreOpener } from "../worker/serve.ts";
import { SegmentStore } from "../store/segment_store.ts";
import { denoUplinkFiles } from "../uplink/_files_deno.ts";
import { gzipDeno } from "../uplink/_gzip_deno.ts";
import { writeConsole } from "./deno.ts";
import { exposeThread } from "./_node_port.ts";

/** Opens the segment-file store. */
export const openSegmentStore: StoreOpener = (dir, options) => SegmentStore.open(dir, options);

/** Deno's pieces of `serveWorker()`, but for the notices (see {@linkcode exposeWorker}). */
export const denoServeOptions: Omit<ServeWorkerOptions, "notify"> = {
  writeConsole,
  openUplinkFiles: denoUplinkFiles,
  gzip: gzipDeno,
};

/** In the worker thread: serves the API that `serve` builds (see `_node_port.ts`). */
export const exposeWorker = exposeThread;
