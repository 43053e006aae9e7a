/**
 * Worker entry point: read the start-up data, open the store, serve the RPC
 * surface over comlink and run the drain loop. All logic lives in `src/`.
 *
 * @module
 */
import * as Comlink from "comlink/dist/esm/comlink.mjs";
import { serveWorker } from "../src/worker/serve.ts";
import { workerEndpoint, workerInit } from "../src/platform/deno.ts";

const endpoint = workerEndpoint();
// Notices go beside comlink's answers, which carry an id; comlink ignores them.
Comlink.expose(serveWorker(workerInit(), (notice) => endpoint.postMessage(notice)), endpoint);
