import "fake-indexeddb/auto";
import assert from "node:assert/strict";
import { openSpill, whyNotStarted } from "../../src/platform/browser.ts";
import { IdbStore } from "../../src/store/idb_store.ts";
import { SPILL_VERSION } from "../../src/wire/sab_spill.ts";

Deno.test("whyNotStarted() tells a missing, a mistyped, a blocked and an unreachable worker script apart", async () => {
  const answers: Record<string, () => Response> = {
    "/missing.js": () => new Response("no", { status: 404, statusText: "Not Found" }),
    "/busy.js": () => new Response("later", { status: 503, statusText: "Service Unavailable" }),
    "/page.js": () => new Response("<!doctype html>", { headers: { "content-type": "text/html" } }),
    "/ok.js": () => new Response("1", { headers: { "content-type": "text/javascript" } }),
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req) => answers[new URL(req.url).pathname]!(),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    const missing = await whyNotStarted(`${base}/missing.js`);
    assert.equal(missing.transient, false);
    assert.equal(
      missing.message,
      `The flightlog worker could not start: its script ${base}/missing.js answered HTTP 404 Not Found; serve flightlog_worker.js next to flightlog.js, or load flightlog.inline.js, which needs no second file`,
    );
    const busy = await whyNotStarted(`${base}/busy.js`);
    assert.equal(busy.transient, true);
    assert.match(busy.message, /answered HTTP 503 Service Unavailable; check the server$/);
    const page = await whyNotStarted(`${base}/page.js`);
    assert.equal(page.transient, false);
    assert.match(page.message, /is served as "text\/html", not JavaScript/);
    const ok = await whyNotStarted(`${base}/ok.js`);
    assert.match(ok.message, /loaded but did not run: a Content-Security-Policy/);
  } finally {
    await server.shutdown();
  }
  // Nothing listens there any more: no answer at all, worth another attempt.
  const gone = await whyNotStarted(`${base}/missing.js`);
  assert.equal(gone.transient, true);
  assert.match(gone.message, /could not be fetched \(.+\); check the network$/);
});

Deno.test("openSpill() writes what localStorage refuses as a pending row of the spill format's version", async () => {
  const dir = "spill-version-" + crypto.randomUUID();
  const kept = Object.getOwnPropertyDescriptor(globalThis, "localStorage");
  const refusing = {
    length: 0,
    key: () => null,
    getItem: () => null,
    setItem: () => {
      throw new DOMException("full", "QuotaExceededError");
    },
    removeItem: () => {},
  };
  Object.defineProperty(globalThis, "localStorage", { value: refusing, configurable: true });
  const spill = openSpill(dir);
  assert.ok(spill !== null, "fake-indexeddb gives the page a database");
  // Open requests of one database are served in order: once this one is, so is the spill's.
  const store = await IdbStore.open(dir);
  try {
    const batch = { producer: "p.0", bytes: new Uint8Array([1, 2, 3, 4]), emitted: 1, dropped: 0 };
    assert.equal(spill.write([batch]), "indexeddb");
    const taken = await store.takePending();
    assert.deepEqual(taken.map((b) => [b.v, b.producer, [...b.bytes]]), [
      [SPILL_VERSION, "p.0", [1, 2, 3, 4]],
    ]);
  } finally {
    if (kept === undefined) delete (globalThis as { localStorage?: unknown }).localStorage;
    else Object.defineProperty(globalThis, "localStorage", kept);
    spill.close();
    await store.close();
  }
});
