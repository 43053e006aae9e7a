/**
 * Browser worker entry point (bundled to `dist/flightlog_worker.js`): take the
 * start-up message, open the IndexedDB store, serve the RPC surface over
 * comlink. All logic lives in `src/worker/serve_browser.ts`.
 *
 * @module
 */
import * as Comlink from "comlink/dist/esm/comlink.mjs";
import { serveBrowserWorker } from "../src/worker/serve_browser.ts";
import { IdbStore } from "../src/store/idb_store.ts";
import { type InitMessage, writeConsole } from "../src/platform/browser.ts";
import type { WorkerNotice } from "../src/worker/api.ts";

const scope = globalThis as unknown as {
  addEventListener(type: "message", fn: (ev: MessageEvent<InitMessage>) => void): void;
  removeEventListener(type: "message", fn: (ev: MessageEvent<InitMessage>) => void): void;
  postMessage(message: WorkerNotice): void;
};

const onInit = (ev: MessageEvent<InitMessage>): void => {
  if (ev.data?.type !== "flightlog-init") return;
  scope.removeEventListener("message", onInit);
  // Exposed within this event's dispatch, so comlink sees every later message.
  Comlink.expose(
    serveBrowserWorker(ev.data.init, (name, options) => IdbStore.open(name, options), {
      writeConsole,
      // Beside comlink's answers, which carry an id; the page's comlink ignores these.
      notify: (notice) => scope.postMessage(notice),
    }),
    globalThis as unknown as Comlink.Endpoint,
  );
};
scope.addEventListener("message", onInit);
