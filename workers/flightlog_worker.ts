/**
 * Worker entry point: read the start-up data, open the store, serve the RPC
 * surface over comlink and run the drain loop. All logic lives in `src/`.
 *
 * @module
 */
import * as Comlink from "comlink/dist/esm/comlink.mjs";
import { serveWorker } from "../src/worker_main.ts";
import { workerEndpoint, workerInit } from "../src/_runtime_deno.ts";

Comlink.expose(serveWorker(workerInit()), workerEndpoint());
