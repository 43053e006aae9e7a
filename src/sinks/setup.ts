/**
 * The caller-side setup of console output and metrics for `createLogger`:
 * resolves options and environment into the consumer's settings, and runs the
 * optional `/metrics` listener of a logger until it is closed.
 *
 * @module
 */
import type { LevelName } from "../level.ts";
import {
  type ConsoleOptions,
  type MetricsOptions,
  type ObserverConfig,
  resolveObserverConfig,
  resolveServe,
} from "../worker/observers.ts";
import { metricsHandler } from "./metrics_server.ts";
import { type HttpListener, isTerminal, moduleUrl, readEnv, serveHttp } from "../platform/deno.ts";

/** Resolved settings: what the consumer runs, and where `/metrics` listens. */
export interface ObserveSetup {
  config: ObserverConfig;
  serve: { hostname: string; port: number } | null;
}

/** Resolves `console` / `metrics` options with the environment. Throws on bad input. */
export function observeSetup(
  options: { console?: boolean | ConsoleOptions; metrics?: boolean | MetricsOptions },
  level: LevelName,
): ObserveSetup {
  const config = resolveObserverConfig(options, level, { env: readEnv, isTerminal, moduleUrl });
  return { config, serve: resolveServe(options.metrics) };
}

const listeners = new WeakMap<object, HttpListener>();

/**
 * Starts a `/metrics` listener answering with `render()`. Throws a
 * `TypeError` naming the address when it cannot listen.
 */
export function startMetricsServer(
  serve: { hostname: string; port: number },
  render: () => Promise<string>,
): HttpListener {
  try {
    return serveHttp(serve.hostname, serve.port, metricsHandler(render));
  } catch (err) {
    // A runtime that cannot listen at all (a browser) says so itself: no port advice.
    if (err instanceof TypeError && err.message.startsWith("Option metrics.serve")) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new TypeError(
      `Cannot serve /metrics on ${serve.hostname}:${serve.port}: ${why}; pick another metrics.serve.port (0 for any free port)`,
      { cause: err },
    );
  }
}

/** Ties a listener to the logger owning `key` (its transport), for `metricsUrl()` and `close()`. */
export function registerMetricsServer(key: object, listener: HttpListener): void {
  listeners.set(key, listener);
}

/** The base URL of the logger's `/metrics` listener, or null. */
export function metricsUrlOf(key: object): string | null {
  const l = listeners.get(key);
  return l === undefined ? null : `${l.url}/metrics`;
}

/** Closes the logger's `/metrics` listener, if any. Idempotent. */
export async function stopMetricsServer(key: object): Promise<void> {
  const l = listeners.get(key);
  if (l === undefined) return;
  listeners.delete(key);
  await l.close();
}
