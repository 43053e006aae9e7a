/**
 * The Node.js platform inside the store worker, which
 * `workers/flightlog_node_worker.ts` wires into `serveWorker()`: the
 * segment-file store on `node:fs`, the uplink's files and gzip, and
 * stdout/stderr. The thread's end of the port is `_node_port.ts`'s, as in Deno.
 *
 * @module
 */
import type { ServeWorkerOptions, StoreOpener } from "../worker/serve.ts";
import { nodeFs } from "../store/_fs_node.ts";
import { SegmentStore } from "../store/segment_store.ts";
import { nodeUplinkFiles } from "../uplink/_files_node.ts";
import { gzipDeno } from "../uplink/_gzip_deno.ts";
import { writeConsole } from "./node.ts";
import { exposeThread } from "./_node_port.ts";

/** Opens the segment-file store on `node:fs`. */
export const openNodeSegmentStore: StoreOpener = (dir, options) =>
  SegmentStore.open(dir, { ...options, fs: nodeFs });

/** Node.js's pieces of `serveWorker()`, but for the notices (see {@linkcode exposeNodeWorker}). */
export const nodeServeOptions: Omit<ServeWorkerOptions, "notify"> = {
  writeConsole,
  openUplinkFiles: nodeUplinkFiles,
  // node:zlib, which Deno's module uses too: the same bytes on Node.js.
  gzip: gzipDeno,
};

/** In the worker thread: serves the API that `serve` builds (see `_node_port.ts`). */
export const exposeNodeWorker = exposeThread;
