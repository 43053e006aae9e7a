/**
 * flightlog's browser worker with fault injection (`../support/faults.ts`):
 * the same serve loop and IndexedDB store as
 * `workers/flightlog_browser_worker.ts`, bundled as `hang_worker.js` for
 * `worker_hang_test.ts`.
 *
 * @module
 */
import { serveBrowserWorker } from "../../src/worker/serve_browser.ts";
import { IdbStore } from "../../src/store/idb_store.ts";
import { writeConsole } from "../../src/platform/browser.ts";
import { exposeWorker } from "../../src/platform/browser_worker.ts";
import { withFaults } from "../support/faults.ts";

exposeWorker((init, notify) =>
  withFaults(
    serveBrowserWorker(init, (name, options) => IdbStore.open(name, options), {
      writeConsole,
      notify,
    }),
  )
);
