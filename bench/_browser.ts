/**
 * The Chromium setup of the browser benchmarks (`browser_bench.ts`,
 * `browser_pagehide.ts`): the browser build in a temporary directory, one
 * headless Chromium, and the bundles served from 127.0.0.1 with COOP/COEP
 * (the `sab` transport) and without (the `message` fallback). Private to
 * `bench/`; apart from `_workload.ts` because it loads playwright-core, which
 * the `Deno.bench` files have no use for.
 *
 * @module
 */
import type { BrowserContext } from "playwright-core";
import { buildBrowser } from "../scripts/build.ts";
import { launchChromium } from "../tests/support/chromium.ts";
import { serveBundles, type TestServer } from "../tests/support/bundle_server.ts";
import { withTempDir } from "./_workload.ts";

/** One of the two ways a page runs flightlog, as {@linkcode forEachPageMode} hands it over. */
export interface PageMode {
  /** `"sab"` for a cross-origin isolated page, else `"message"`. */
  readonly mode: "sab" | "message";
  /** The browser's one context (profile). */
  readonly context: BrowserContext;
  /** Serves the bundles on a port of its own (another origin); closed after this mode. */
  serve(): TestServer;
}

/**
 * Builds the browser bundles, launches Chromium, and runs `fn` for the
 * isolated page, then for the one that is not; cleans everything up.
 */
export async function forEachPageMode(fn: (page: PageMode) => Promise<void>): Promise<void> {
  await withTempDir(async (dist) => {
    const chrome = await launchChromium();
    try {
      await buildBrowser(dist);
      for (const isolated of [true, false]) {
        const servers: TestServer[] = [];
        try {
          await fn({
            mode: isolated ? "sab" : "message",
            context: chrome.context,
            serve() {
              servers.push(serveBundles(dist, isolated));
              return servers.at(-1)!;
            },
          });
        } finally {
          for (const server of servers) await server.close();
        }
      }
    } finally {
      await chrome.close();
    }
  });
}
