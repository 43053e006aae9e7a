/**
 * The front end's one way to a transport, the narrow interface in front of
 * the ring and the worker. Transports carry encoded records from a producing
 * thread to the consumer:
 *
 * - `"sab"`: a SharedArrayBuffer ring drained by a worker (the fast path);
 * - `"message"`: records batched in a private buffer and posted to the worker
 *   (no SharedArrayBuffer, e.g. a page that is not cross-origin isolated);
 * - `"inline"`: no worker at all; the consumer runs on this thread, on a timer;
 * - `"attached"`: an application Worker writing into its own ring of another
 *   logger's store (see `attachLogger`).
 *
 * All of them share the record format, so the semantics (sequence numbers,
 * drops, `emitted = persisted + dropped`) are the same.
 *
 * @module
 */
import * as runtime from "../platform/deno.ts";
import type { Platform } from "../platform/types.ts";
import { AttachedTransport } from "./attached_transport.ts";
import { InlineTransport } from "./inline_transport.ts";
import { WorkerTransport, type WorkerTransportDeps } from "./worker_transport.ts";
import { transportSeams } from "./_testing.ts";
import type { Transport, TransportConfig } from "./types.ts";

export {
  LoggerClosedError,
  type Producer,
  type Transport,
  type TransportConfig,
  type TransportMode,
} from "./types.ts";

// Swapped for platform/browser.ts by the browser build (scripts/build.ts).
const PLATFORM: Platform = runtime;

/** Picks and opens a transport. */
export function openTransport(config: TransportConfig): Transport {
  // Null outside tests (src/transport/_testing.ts).
  const { platform: wrap, opened, ...deps } = transportSeams() ?? {};
  const transport = open(config, { ...deps, platform: wrap?.(PLATFORM) ?? PLATFORM });
  opened?.(transport);
  return transport;
}

function open(config: TransportConfig, deps: WorkerTransportDeps): Transport {
  const platform = deps.platform;
  if (config.mode === "attached") return new AttachedTransport(config.handle, platform);
  let mode = config.mode;
  if (mode === "auto") {
    mode = !platform.hasWorkers() ? "inline" : platform.hasSharedMemory() ? "sab" : "message";
  }
  if (mode === "sab" && !platform.hasSharedMemory()) {
    throw new TypeError(
      'Transport "sab" needs SharedArrayBuffer (a cross-origin isolated page in browsers): use "auto"',
    );
  }
  if (mode === "inline") return new InlineTransport(config, platform);
  return new WorkerTransport(config, mode, deps);
}
