/**
 * Launches Debian's Chromium (`/usr/bin/chromium`, installed by the test task's
 * scripts/test_prerequisites.ts; `FLIGHTLOG_CHROMIUM` names another binary)
 * through playwright-core with the flags this machine needs and a fresh
 * user-data directory, removed again by `close()`.
 *
 * @module
 */
import type { BrowserContext, Page } from "playwright-core";
import fs from "node:fs";
import { chromiumPath } from "../../scripts/test_prerequisites.ts";

// playwright-core probes "/proc/sys/fs/binfmt_misc/WSLInterop" with existsSync
// when it loads; Deno answers that path with NotCapable unless run with -A
// (the test task grants --allow-read, not -A). A probe that cannot look finds nothing.
const existsSync = fs.existsSync;
fs.existsSync = (path: fs.PathLike): boolean => {
  try {
    return existsSync(path);
  } catch {
    return false;
  }
};
const { chromium } = await import("playwright-core");

// Without the background-networking flags Chromium keeps opening connections
// that this machine's closed network refuses.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running Chromium with its own profile directory. */
export interface Chromium {
  /** The browser context (one profile). */
  readonly context: BrowserContext;
  /** Closes the browser and removes its profile directory. */
  close(): Promise<void>;
}

/** Launches a headless Chromium with a fresh profile. */
export async function launchChromium(): Promise<Chromium> {
  const profile = await Deno.makeTempDir({ prefix: "flightlog-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: FLAGS,
  });
  return {
    context,
    async close() {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    },
  };
}

/**
 * A new tab of `chrome` on the HTML file at `path`, once the page's script has
 * set `body[data-ready=true]`; every URL the tab requests is pushed to `requests`.
 */
export async function openFilePage(
  chrome: Chromium,
  path: string,
  requests: string[],
): Promise<Page> {
  const tab = await chrome.context.newPage();
  tab.on("request", (request) => requests.push(request.url()));
  await tab.goto(`file://${path}`);
  await tab.waitForSelector("body[data-ready=true]");
  return tab;
}
