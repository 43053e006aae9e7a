/**
 * Test seams of the transports, the one way tests reach a logger's worker
 * (crash and hang injection) and its watchdog: what is set here is handed
 * to the transports `openTransport()` opens meanwhile, as the dependencies
 * they take anyway. Internal: never exported from `mod.ts` or the package,
 * and production code never sets it.
 *
 * @module
 */
import type { Platform } from "../platform/types.ts";
import type { Transport } from "./types.ts";
import type { WorkerTransportDeps } from "./worker_transport.ts";

/** What a test may hand the transports it opens. */
export interface TransportSeams extends Omit<WorkerTransportDeps, "platform"> {
  /** Wraps the platform, e.g. to keep the handles of the workers it starts. */
  platform?: (platform: Platform) => Platform;
  /** Called with each transport opened. */
  opened?: (transport: Transport) => void;
}

let current: TransportSeams | null = null;

/**
 * Runs `open` (say, `() => createLogger(options)`) with `seams` handed to
 * every transport opened during the call; synchronous, as `createLogger` is.
 */
export function withTransportSeams<T>(seams: TransportSeams, open: () => T): T {
  const before = current;
  current = seams;
  try {
    return open();
  } finally {
    current = before;
  }
}

/** The seams in effect: null, unless a test's {@linkcode withTransportSeams} is running. */
export function transportSeams(): TransportSeams | null {
  return current;
}
