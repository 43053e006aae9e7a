/**
 * The browser entry of `worker_hang_test.ts`: the logger and the way to its
 * transport (`coreOf`), which `mod.ts` keeps private.
 *
 * @module
 */
export { coreOf, createLogger } from "../../src/front/logger.ts";
