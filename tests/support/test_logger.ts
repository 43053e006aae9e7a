/**
 * A logger for one test in its own temporary store, closed and removed
 * however the test ends, and the events of one of its flows.
 *
 * @module
 */
import { createLogger, type LogEvent, type Logger, type LoggerOptions } from "../../mod.ts";
import { withTempDir } from "./temp_dir.ts";

/**
 * Runs `fn` with a logger made from `options` (exit hooks off) over a fresh
 * directory, then closes the logger and removes the directory. Options made
 * from the directory may put the store elsewhere in it (`dir: \`${dir}/store\``).
 */
export function withLogger(
  options: LoggerOptions | ((dir: string) => LoggerOptions),
  fn: (log: Logger, dir: string) => Promise<void>,
): Promise<void> {
  return withTempDir(async (dir) => {
    const log = createLogger(
      typeof options === "function"
        ? { exitHooks: false, dir, ...options(dir) }
        : { exitHooks: false, ...options, dir },
    );
    try {
      await fn(log, dir);
    } finally {
      await log.close();
    }
  });
}

/** Flushes `log`, then reads the events of flow `flowId`. */
export async function flowEvents(log: Logger, flowId: string): Promise<LogEvent[]> {
  await log.flush();
  return (await log.getFlowLog(flowId)).events;
}
