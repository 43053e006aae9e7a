/**
 * Browser worker entry point (bundled to `dist/flightlog_worker.js`): wires
 * the IndexedDB store and the browser console into the worker's serve loop
 * and serves it to the page. All logic lives in `src/worker/serve_browser.ts`.
 *
 * @module
 */
import { serveBrowserWorker } from "../src/worker/serve_browser.ts";
import { IdbStore } from "../src/store/idb_store.ts";
import { writeConsole } from "../src/platform/browser.ts";
import { exposeWorker } from "../src/platform/browser_worker.ts";

exposeWorker((init, notify) =>
  serveBrowserWorker(init, (name, options) => IdbStore.open(name, options), {
    writeConsole,
    notify,
  })
);
