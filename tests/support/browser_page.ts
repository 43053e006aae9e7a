/**
 * The browser tests' setup: the browser build in a temporary directory, a
 * headless Chromium to load it, a server for each origin, and the test page
 * of {@linkcode serveBundles} loaded in a tab.
 *
 * @module
 */
import type { Page } from "playwright-core";
import { buildBrowser } from "../../scripts/build.ts";
import { type Chromium, launchChromium } from "./chromium.ts";
import { serveBundles, type ServeOptions, type TestServer } from "./bundle_server.ts";

/**
 * Both transports of a page: the SharedArrayBuffer ring where the page is
 * cross-origin isolated, postMessage where it is not.
 */
export const PAGE_MODES = [
  { isolated: true, mode: "sab" },
  { isolated: false, mode: "message" },
] as const;

/**
 * Builds the browser bundles into a fresh directory (then `extra`, for bundles
 * of the test's own) and launches Chromium for `fn`; closes Chromium and
 * removes the directory however `fn` ends.
 */
export async function withBuiltChromium(
  fn: (chrome: Chromium, dist: string) => Promise<void>,
  extra: (dist: string) => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  const dist = await Deno.makeTempDir({ prefix: "flightlog-dist-" });
  const chrome = await launchChromium();
  try {
    await buildBrowser(dist);
    await extra(dist);
    await fn(chrome, dist);
  } finally {
    await chrome.close();
    await Deno.remove(dist, { recursive: true });
  }
}

/** Serves `dist` on an origin of its own for `fn` (see {@linkcode serveBundles}), then stops. */
export async function withServer(
  dist: string,
  isolated: boolean,
  fn: (server: TestServer) => Promise<void>,
  options: ServeOptions = {},
): Promise<void> {
  const server = serveBundles(dist, isolated, options);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/** Resolves once the test page in `page` has loaded its bundle. */
export async function testPageReady(page: Page): Promise<void> {
  await page.waitForFunction(() => (globalThis as { flightlogReady?: boolean }).flightlogReady);
}

/** Loads the test page at `url` in `page` and waits for its bundle. */
export async function loadTestPage(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await testPageReady(page);
}

/** A new tab of `chrome` with the test page at `url` loaded. */
export async function openTestPage(chrome: Chromium, url: string): Promise<Page> {
  const page = await chrome.context.newPage();
  await loadTestPage(page, url);
  return page;
}

/**
 * Runs `fn` as one step per {@linkcode PAGE_MODES} mode, each on a fresh test
 * page of the browser build, and closes the page however the step ends.
 */
export async function stepEachPageMode(
  t: Deno.TestContext,
  fn: (page: Page, mode: (typeof PAGE_MODES)[number]["mode"]) => Promise<void>,
): Promise<void> {
  await withBuiltChromium(async (chrome, dist) => {
    for (const { isolated, mode } of PAGE_MODES) {
      await withServer(dist, isolated, async (server) => {
        await t.step(mode, async () => {
          const page = await openTestPage(chrome, server.url);
          try {
            await fn(page, mode);
          } finally {
            await page.close();
          }
        });
      });
    }
  });
}
