/**
 * The platform seam is typed: `platform/deno.ts`, `platform/node.ts` and
 * `platform/browser.ts`, which the Node.js and browser builds swap
 * (scripts/build.ts), each implement
 * {@linkcode Platform} and export nothing else a caller could come to rely
 * on. The type checker (`deno check`, run by the test task) fails first; the
 * test says which names differ.
 */
import assert from "node:assert/strict";
import type { Platform } from "../../src/platform/types.ts";
import * as deno from "../../src/platform/deno.ts";
import * as browser from "../../src/platform/browser.ts";
import * as node from "../../src/platform/node.ts";

// Each module implements the interface...
const _deno: Platform = deno;
const _browser: Platform = browser;
const _node: Platform = node;
// ...and exports no function of its own: a name only Deno had would break
// the browser build, one only the browser had would not be checked here.
// (`whyNotStarted` is the browser's startWorker's helper, exported for its test.)
type Own<M> = Exclude<keyof M, keyof Platform>;
const _denoOwn: [Own<typeof deno>] extends [never] ? true : Own<typeof deno> = true;
const _nodeOwn: [Own<typeof node>] extends [never] ? true : Own<typeof node> = true;
const _browserOwn: [Exclude<Own<typeof browser>, "whyNotStarted">] extends [never] ? true
  : Own<typeof browser> = true;

/** Every member of Platform, once: the record's type rejects a missing or unknown one. */
const MEMBERS: Record<keyof Platform, true> = {
  hasWorkers: true,
  hasSharedMemory: true,
  canWait: true,
  startWorker: true,
  lockStore: true,
  unrefTimer: true,
  openStore: true,
  addExitHook: true,
  watchLeaving: true,
  openSpill: true,
  writeConsole: true,
  readEnv: true,
  isTerminal: true,
  moduleUrl: true,
  openTempStore: true,
  describeRuntime: true,
  serveHttp: true,
};

Deno.test("platform/deno.ts, node.ts and browser.ts export the Platform interface's functions, no others", () => {
  const names = Object.keys(MEMBERS).sort();
  assert.deepEqual(Object.keys(deno).sort(), names);
  assert.deepEqual(Object.keys(node).sort(), names);
  assert.deepEqual(Object.keys(browser).filter((n) => n !== "whyNotStarted").sort(), names);
  for (const name of names) {
    assert.equal(typeof deno[name as keyof Platform], "function", `deno.ts ${name}`);
    assert.equal(typeof browser[name as keyof Platform], "function", `browser.ts ${name}`);
    assert.equal(typeof node[name as keyof Platform], "function", `node.ts ${name}`);
  }
});
