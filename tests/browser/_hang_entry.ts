/**
 * The browser page's entry of `worker_hang_test.ts`: a logger whose worker
 * (`_hang_worker.ts`, bundled as `hang_worker.js`) takes faults, reached
 * through the transport's test seams, which `mod.ts` does not export.
 *
 * @module
 */
export { FaultyLogger } from "../support/faulty_logger.ts";
