/**
 * comlink over a `node:worker_threads` port: both ends of the Deno worker
 * (`deno.ts` starts it, `deno_worker.ts` serves in it) talk through this.
 *
 * @module
 */
import type { Endpoint } from "comlink/dist/esm/comlink.mjs";

/** What a `node:worker_threads` Worker and MessagePort have in common. */
export interface NodePort {
  // deno-lint-ignore no-explicit-any
  postMessage(message: unknown, transfer?: any): void;
  on(type: "message", listener: (data: unknown) => void): unknown;
  off(type: "message", listener: (data: unknown) => void): unknown;
}

/**
 * The port as a comlink endpoint: comlink expects DOM-style message events,
 * node:worker_threads delivers the data itself, so each message is wrapped as
 * `{ data }`.
 */
export function portEndpoint(port: NodePort): Endpoint {
  const wrapped = new Map<EventListenerOrEventListenerObject, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) =>
      port.postMessage(message, transfer),
    addEventListener(_type: string, listener: EventListenerOrEventListenerObject) {
      const fn = (data: unknown) => {
        const ev = { data } as MessageEvent;
        if (typeof listener === "function") listener(ev);
        else listener.handleEvent(ev);
      };
      wrapped.set(listener, fn);
      port.on("message", fn);
    },
    removeEventListener(_type: string, listener: EventListenerOrEventListenerObject) {
      const fn = wrapped.get(listener);
      if (fn !== undefined) {
        port.off("message", fn);
        wrapped.delete(listener);
      }
    },
  };
}
