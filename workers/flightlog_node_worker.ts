/**
 * Node.js worker entry point (the npm package's `dist/node/flightlog_worker.js`):
 * wires Node's store, files and console into the worker's serve loop and
 * serves it to the logger's thread. All logic lives in `src/worker/serve.ts`.
 *
 * @module
 */
import { serveWorker } from "../src/worker/serve.ts";
import {
  exposeNodeWorker,
  nodeServeOptions,
  openNodeSegmentStore,
} from "../src/platform/node_worker.ts";

exposeNodeWorker((init, notify) =>
  serveWorker(init, openNodeSegmentStore, { ...nodeServeOptions, notify })
);
