/**
 * The browser platform inside the store worker, which
 * `workers/flightlog_browser_worker.ts` wires into `serveBrowserWorker`:
 * the start-up message (`startWorker` in `browser.ts` posts it) and comlink
 * over the worker's global scope.
 *
 * @module
 */
import * as Comlink from "comlink/dist/esm/comlink.mjs";
import type { WorkerInit, WorkerNotice } from "../worker/api.ts";
import type { InitMessage } from "./browser.ts";

const scope = globalThis as unknown as {
  addEventListener(type: "message", fn: (ev: MessageEvent<InitMessage>) => void): void;
  removeEventListener(type: "message", fn: (ev: MessageEvent<InitMessage>) => void): void;
  postMessage(message: WorkerNotice): void;
};

/**
 * In the worker: once the start-up message arrives, builds the API with
 * `serve` and serves it to the page over comlink; `notify` posts a notice
 * beside comlink's answers (they carry an id; the page's comlink ignores
 * the notices).
 */
export function exposeWorker(
  serve: (init: WorkerInit, notify: (notice: WorkerNotice) => void) => object,
): void {
  const onInit = (ev: MessageEvent<InitMessage>): void => {
    if (ev.data?.type !== "flightlog-init") return;
    scope.removeEventListener("message", onInit);
    // Exposed within this event's dispatch, so comlink sees every later message.
    Comlink.expose(
      serve(ev.data.init, (notice) => scope.postMessage(notice)),
      globalThis as unknown as Comlink.Endpoint,
    );
  };
  scope.addEventListener("message", onInit);
}
