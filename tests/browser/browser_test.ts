/**
 * The browser build in real headless Chromium, served from 127.0.0.1: once
 * cross-origin isolated (COOP/COEP: the SharedArrayBuffer ring) and once not
 * (the postMessage fallback). Each mode gets its own server, hence its own
 * origin and its own IndexedDB.
 */
import assert from "node:assert/strict";
import {
  openTestPage,
  PAGE_MODES,
  testPageReady,
  withBuiltChromium,
  withServer,
} from "../support/browser_page.ts";

// A sink module served beside the bundles: the store worker imports it and
// hands each batch's event names to the page over a BroadcastChannel.
const TEST_SINK = `export default ({ channel }) => {
  const out = new BroadcastChannel(channel);
  return async (events) => {
    await null;
    out.postMessage(events.map((e) => e.event + ":" + (e.fields.secret ?? "")));
  };
};
`;

Deno.test("the browser build in headless Chromium", async (t) => {
  await withBuiltChromium(async (chrome, dist) => {
    for (const { isolated, mode } of PAGE_MODES) {
      await withServer(dist, isolated, async (server) => {
        await t.step(
          `createLogger() uses the "${mode}" transport, persists and queries`,
          async () => {
            const page = await openTestPage(chrome, server.url);
            const r = await page.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const { createLogger } = (globalThis as any).flightlog;
              const log = createLogger({ dir: "persist" });
              const flow = log.child({ flow_id: "f-1", run_id: "r-1" });
              flow.info("run_start", { span_id: "run" });
              for (let i = 0; i < 300; i++) {
                // Non-ASCII and long strings go through TextEncoder.encodeInto.
                flow.info("step_end", {
                  span_id: `s${i}`,
                  parent_id: "run",
                  i,
                  note: `héllo ✓ ${"x".repeat(i)}`,
                });
              }
              flow.error("step_failed", { span_id: "s-bad", parent_id: "run", status: "failed" });
              log.info("unrelated");
              await log.flush({ durable: true });
              const trace = await log.getFlowLog("f-1");
              const errors = await log.query({ flow_id: "f-1", level: "error" });
              const t0 = trace.events[10].ts_ms;
              const range = await log.query({ since_ms: t0, limit: 5 });
              const listed = await log.listFlows({ limit: 1 });
              const stats = log.stats();
              await log.close();
              return {
                isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated,
                mode: stats.mode,
                emitted: stats.emitted,
                persisted: stats.persisted,
                events: trace.events.length,
                notes: trace.events.slice(1, 4).map((e: { fields: { note: string } }) =>
                  e.fields.note
                ),
                roots: trace.spans.length,
                children: trace.spans[0].children.length,
                errors: errors.events.map((e: { event: string }) => e.event),
                rangeFirst: range.events[0].ts_ms >= t0,
                rangeCount: range.events.length,
                more: range.cursor !== null,
                listed: listed.flows,
                listedMore: listed.cursor !== null,
              };
            });
            assert.equal(r.isolated, isolated);
            assert.equal(r.mode, mode);
            assert.equal(r.emitted, 303);
            assert.equal(r.persisted, 303);
            assert.equal(r.events, 302);
            assert.deepEqual(r.notes, ["héllo ✓ ", "héllo ✓ x", "héllo ✓ xx"]);
            assert.equal(r.roots, 1);
            assert.equal(r.children, 301);
            assert.deepEqual(r.errors, ["step_failed"]);
            assert.ok(r.rangeFirst);
            assert.equal(r.rangeCount, 5);
            assert.ok(r.more);
            assert.deepEqual(
              r.listed.map((f: Record<string, unknown>) => [
                f.flow_id,
                f.run_ids,
                f.event_count,
                f.error_count,
                f.status,
              ]),
              [["f-1", ["r-1"], 302, 1, "running"]],
            );
            assert.equal(r.listedMore, false);
            await page.close();
          },
        );
        await t.step(`"${mode}": nodeStats() gives per-node rows from IndexedDB`, async () => {
          const page = await openTestPage(chrome, server.url);
          const r = await page.evaluate(async () => {
            // deno-lint-ignore no-explicit-any
            const { createLogger } = (globalThis as any).flightlog;
            const log = createLogger({ dir: "node-stats" });
            const flow = log.child({ flow_id: "ns", run_id: "r-1" });
            // fetch: 10, 20, ..., 100 ms, the last one failed; complete: 5 calls of 7 ms.
            for (let i = 1; i <= 10; i++) {
              flow.info("step_end", {
                step_id: "fetch",
                step_type: "http",
                status: i === 10 ? "failed" : "ok",
                duration_ms: 10 * i,
              });
            }
            for (let i = 0; i < 5; i++) {
              flow.info("node_exit", {
                node: "complete",
                category: "llm",
                duration_ms: 7,
                usage: { input_tokens: 3, output_tokens: 2, cost_usd: 0.5 },
              });
            }
            flow.info("run_end", { status: "failed", duration_ms: 1_000 });
            await log.flush();
            const rows = await log.nodeStats({ flow_id: "ns" });
            const glob = await log.nodeStats({ node: "comp*" });
            await log.close();
            return { rows, glob: glob.map((row: { name: string }) => row.name) };
          });
          const byName = new Map(r.rows.map((row: { name: string }) => [row.name, row]));
          assert.deepEqual(
            [...byName.keys()].sort(),
            ["complete", "fetch"],
          );
          const fetch = byName.get("fetch") as Record<string, number | string | null>;
          assert.deepEqual(
            [fetch.kind, fetch.step_type, fetch.count, fetch.ok, fetch.failed, fetch.max],
            ["step", "http", 10, 9, 1, 100],
          );
          assert.equal(fetch.total_ms, 550);
          assert.equal(fetch.wall_share, 0.55);
          // The median of 10..100 at rank 4 is 50, within the sketch's 1%.
          assert.ok(Math.abs((fetch.p50 as number) - 50) <= 0.5, String(fetch.p50));
          const complete = byName.get("complete") as Record<string, number | string | null>;
          assert.deepEqual(
            [complete.kind, complete.category, complete.count, complete.total_ms],
            ["node", "llm", 5, 35],
          );
          assert.deepEqual(
            [complete.tokens_in, complete.tokens_out, complete.cost_usd],
            [15, 10, 2.5],
          );
          assert.deepEqual(r.glob, ["complete"]);
          await page.close();
        });
        await t.step(`"${mode}": a sink module (a URL) receives the persisted events`, async () => {
          const page = await openTestPage(chrome, server.url);
          const r = await page.evaluate(async () => {
            // deno-lint-ignore no-explicit-any
            const { createLogger } = (globalThis as any).flightlog;
            const channel = new BroadcastChannel("flightlog-test-sink");
            const got: string[] = [];
            const all = new Promise<void>((resolve, reject) => {
              const timer = setTimeout(() => reject(new Error(`only ${got.join()}`)), 10_000);
              channel.onmessage = (ev) => {
                got.push(...ev.data);
                if (got.length < 51) return;
                clearTimeout(timer);
                resolve();
              };
            });
            const log = createLogger({
              dir: "sinks",
              sinks: [{ module: "test_sink.js", options: { channel: "flightlog-test-sink" } }],
            });
            for (let i = 0; i < 50; i++) log.info(`e${i}`);
            log.info("login", { secret: "hunter2" });
            await log.flush();
            const stats = log.stats().sinks;
            await all;
            await log.close();
            channel.close();
            return { got, stats };
          });
          assert.deepEqual(r.got, [
            ...Array.from({ length: 50 }, (_, i) => `e${i}:`),
            "login:[REDACTED]",
          ]);
          assert.deepEqual(r.stats, [{
            module: `${server.url}test_sink.js`,
            delivered: 51,
            dropped: 0,
            errors: 0,
            queued: 0,
            error: null,
          }]);
          await page.close();
        });
        await t.step(
          `"${mode}": planted secrets leave zero canary bytes in IndexedDB; found with redaction off`,
          async () => {
            const page = await openTestPage(chrome, server.url);
            const r = await page.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const { createLogger, withContext, observable } = (globalThis as any).flightlog;
              const C = "c4n4ry7e57b0b1d2c3";
              const TEXT = `sent Authorization: Bearer ${C} upstream`;
              // One canary through every path: sensitive keys in objects, arrays, Maps,
              // errors and causes; child and withContext() bindings; captured inputs;
              // a bearer token in a value, a key, a message and an error message.
              // deno-lint-ignore no-explicit-any
              const plant = (log: any) => {
                const flow = log.child({ flow_id: "secrets" });
                flow.info("object", { user: { api_key: C, name: "ada" } });
                flow.info("array", { rows: [1, { password: C }] });
                flow.info("map", { headers: new Map([["Authorization", C]]) });
                flow.error("error", Object.assign(new Error(TEXT), { token: C }));
                flow.info("cause", { err: new Error("outer", { cause: { secret: C } }) });
                log.child({ flow_id: "secrets", session_id: C }).info("bound");
                withContext({ flow_id: "secrets", cookie: C }, () => log.info("in_context"));
                observable((input: unknown) => ({ ok: input }), {
                  logger: flow,
                  node: "echo",
                  capture: true,
                })({ access_token: C });
                flow.info(TEXT, { note: TEXT, [TEXT]: 1 });
              };
              // Every record of every object store of the databases named like `dir`,
              // bytes read as Latin-1 so an ASCII canary shows as itself.
              const dump = async (dir: string): Promise<string> => {
                const latin1 = new TextDecoder("latin1");
                const text = (v: unknown): string => {
                  if (v instanceof Uint8Array || v instanceof ArrayBuffer) return latin1.decode(v);
                  if (ArrayBuffer.isView(v)) return latin1.decode(new Uint8Array(v.buffer));
                  if (typeof v === "string") return v;
                  if (v !== null && typeof v === "object") {
                    return Object.entries(v).map(([k, x]) => k + "=" + text(x)).join(" ");
                  }
                  return String(v);
                };
                // deno-lint-ignore no-explicit-any
                const idb = (globalThis as any).indexedDB;
                let out = "";
                for (const info of await idb.databases() as { name?: string }[]) {
                  if (!info.name?.includes(dir)) continue;
                  // deno-lint-ignore no-explicit-any
                  const db: any = await new Promise((resolve, reject) => {
                    const req = idb.open(info.name!);
                    req.onsuccess = () => resolve(req.result);
                    req.onerror = () => reject(req.error);
                  });
                  for (const name of Array.from(db.objectStoreNames as ArrayLike<string>)) {
                    const all: unknown[] = await new Promise((resolve, reject) => {
                      const req = db.transaction(name).objectStore(name).getAll();
                      req.onsuccess = () => resolve(req.result);
                      req.onerror = () => reject(req.error);
                    });
                    out += all.map(text).join("\n");
                  }
                  db.close();
                }
                return out;
              };
              const result: Record<string, unknown> = {};
              for (const redact of [{ patterns: true }, false]) {
                const dir = redact === false ? "secrets-control" : "secrets-redacted";
                const log = createLogger({ dir, redact });
                plant(log);
                await log.flush({ durable: true });
                const flowLog = JSON.stringify(await log.getFlowLog("secrets"));
                const query = JSON.stringify(await log.query({ flow_id: "secrets" }));
                const stats = log.stats();
                await log.close();
                const stored = await dump(dir);
                result[redact === false ? "control" : "redacted"] = {
                  persisted: stats.persisted,
                  storedBytes: stored.length,
                  inStore: stored.includes(C),
                  inFlowLog: flowLog.includes(C),
                  inQuery: query.includes(C),
                  redactedMarks: flowLog.includes("[REDACTED]"),
                };
              }
              return result;
            });
            const want = (found: boolean) => ({
              persisted: 10,
              inStore: found,
              inFlowLog: found,
              inQuery: found,
            });
            const { storedBytes: redactedBytes, redactedMarks, ...redacted } = r.redacted as Record<
              string,
              unknown
            >;
            // (The control's captured inputs are redacted by observable() itself: no mark check.)
            const { storedBytes: controlBytes, redactedMarks: _, ...control } = r.control as Record<
              string,
              unknown
            >;
            assert.equal(redactedMarks, true);
            assert.ok(
              (redactedBytes as number) > 500 && (controlBytes as number) > 500,
              "records read",
            );
            assert.deepEqual(redacted, want(false));
            assert.deepEqual(control, want(true), "the search finds the canary unredacted");
            await page.close();
          },
        );

        await t.step(
          `"${mode}": createLogger() refuses a transport the page cannot run`,
          async () => {
            const page = await openTestPage(chrome, server.url);
            const r = await page.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const { createLogger } = (globalThis as any).flightlog;
              const attempt = async (transport: string) => {
                try {
                  await createLogger({ dir: "refused", transport }).close();
                  return "created";
                } catch (err) {
                  return `${(err as Error).name}: ${(err as Error).message}`;
                }
              };
              return { inline: await attempt("inline"), sab: await attempt("sab") };
            });
            assert.match(
              r.inline,
              /^TypeError: The "inline" transport is not available in browsers/,
            );
            if (isolated) assert.equal(r.sab, "created");
            else assert.match(r.sab, /^TypeError: Transport "sab" needs SharedArrayBuffer/);
            await page.close();
          },
        );

        await t.step(
          `"${mode}": the inlined bundle starts its worker from a Blob URL`,
          async () => {
            const page = await openTestPage(chrome, `${server.url}?bundle=flightlog.inline.js`);
            const r = await page.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const log = (globalThis as any).flightlog.createLogger({ dir: "inline" });
              log.info("hello", { flow_id: "inline" });
              const trace = await log.getFlowLog("inline");
              const stats = log.stats();
              await log.close();
              return { events: trace.events.length, mode: stats.mode };
            });
            assert.deepEqual(r, { events: 1, mode });
            await page.close();
          },
        );

        await t.step(
          `"${mode}": an event logged on an idle page is persisted without flush()`,
          async () => {
            const page = await openTestPage(chrome, server.url);
            await page.evaluate(() => {
              // deno-lint-ignore no-explicit-any
              const g = globalThis as any;
              g.log = g.flightlog.createLogger({ dir: "idle" });
              g.log.info("lonely");
            });
            // Waits for the worker, not for time: the condition is polled until it holds.
            // deno-lint-ignore no-explicit-any
            await page.waitForFunction(() => (globalThis as any).log.stats().persisted === 1);
            // deno-lint-ignore no-explicit-any
            await page.evaluate(() => (globalThis as any).log.close());
            await page.close();
          },
        );

        await t.step(
          `"${mode}": emitted = persisted + dropped under overload, exactly`,
          async () => {
            const page = await openTestPage(chrome, server.url);
            const r = await page.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const { createLogger } = (globalThis as any).flightlog;
              let onDrop = 0;
              const log = createLogger({
                dir: "overflow",
                ringBytes: 4096,
                limits: { maxRecordBytes: 1024 },
                onDrop: () => onDrop++,
              });
              const flow = log.child({ flow_id: "burst" });
              // One task: the worker cannot keep up with a synchronous loop.
              for (let i = 0; i < 20_000; i++) flow.info("tick", { i });
              await log.flush();
              flow.info("after"); // ends the burst: its log.dropped record is written
              await log.flush();
              const stats = log.stats();
              const trace = await log.getFlowLog("burst");
              let reported = 0;
              let dropEvents = 0;
              for (let page = await log.query({ event: "log.dropped" });;) {
                for (const e of page.events) reported += e.fields.count;
                dropEvents += page.events.length;
                if (page.cursor === null) break;
                page = await log.query({ event: "log.dropped", cursor: page.cursor });
              }
              await log.close();
              return { ...stats, stored: trace.events.length, reported, dropEvents, onDrop };
            });
            assert.equal(r.emitted, 20_001);
            assert.ok(r.dropped > 0, "the ring overflowed");
            assert.equal(r.emitted, r.persisted + r.dropped);
            assert.equal(r.stored, r.persisted); // every persisted user event is in IndexedDB
            assert.equal(r.reported, r.dropped); // and every drop is reported by a log.dropped event
            assert.equal(r.onDrop, r.dropped);
            await page.close();
          },
        );

        await t.step(`"${mode}": events logged before the page hid survive a reload`, async () => {
          const page = await openTestPage(chrome, server.url);
          await page.evaluate(() => {
            // deno-lint-ignore no-explicit-any
            const { createLogger } = (globalThis as any).flightlog;
            // A batching delay no test waits for: only the lifecycle flush hands the events on.
            const log = createLogger({ dir: "reload", flushIntervalMs: 3_600_000 });
            // deno-lint-ignore no-explicit-any
            (globalThis as any).log = log;
            for (let i = 0; i < 1000; i++) log.info("before_hide", { flow_id: "reload", i });
            // deno-lint-ignore no-explicit-any
            const document = (globalThis as any).document;
            Object.defineProperty(document, "visibilityState", {
              value: "hidden",
              configurable: true,
            });
            document.dispatchEvent(new Event("visibilitychange"));
          });
          // deno-lint-ignore no-explicit-any
          await page.waitForFunction(() => (globalThis as any).log.stats().persisted === 1000);
          await page.reload();
          await testPageReady(page);
          const r = await page.evaluate(async () => {
            // deno-lint-ignore no-explicit-any
            const { createLogger } = (globalThis as any).flightlog;
            const log = createLogger({ dir: "reload" });
            const trace = await log.getFlowLog("reload");
            await log.close();
            return trace.events.map((e: { fields: { i: number } }) => e.fields.i);
          });
          assert.deepEqual(r, Array.from({ length: 1000 }, (_, i) => i));
          await page.close();
        });

        // Pagehide is all there is: "message" spills its unsent batch, "sab" the records its
        // worker has not committed; the next worker stores them, without duplicates.
        await t.step(
          `"${mode}": events logged just before a reload survive it (pagehide spill)`,
          async () => {
            const page = await openTestPage(chrome, server.url);
            await page.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const { createLogger } = (globalThis as any).flightlog;
              // A batching delay no test waits for: only the pagehide hook hands the events on.
              const log = createLogger({ dir: "pagehide", flushIntervalMs: 3_600_000 });
              // The child's bindings definition is stored before the reload; its events are not.
              const flow = log.child({ flow_id: "pagehide", run_id: "r-1" });
              flow.info("before_reload", { i: 0 });
              await log.flush(); // the worker is up, the database open, the definition stored
              for (let i = 1; i <= 1000; i++) flow.info("before_reload", { i });
            });
            await page.reload(); // no flush, no wait: pagehide is all there is
            await testPageReady(page);
            const r = await page.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const { createLogger } = (globalThis as any).flightlog;
              const log = createLogger({ dir: "pagehide" });
              const trace = await log.getFlowLog("pagehide");
              await log.close();
              return trace.events.map((e: { fields: { i: number; run_id: string } }) =>
                `${e.fields.run_id}:${e.fields.i}`
              );
            });
            // Every event once: none lost, none stored twice (old worker and spill).
            assert.deepEqual(r, Array.from({ length: 1001 }, (_, i) => `r-1:${i}`));
            await page.close();
          },
        );

        await t.step(
          `"${mode}": console lines reach the page console and log.metrics() answers`,
          async () => {
            const page = await openTestPage(chrome, server.url);
            // The worker writes the lines; Chromium reports a worker's console on its page.
            const line = page.waitForEvent("console", {
              predicate: (msg) => msg.text().includes("console_probe"),
            });
            const r = await page.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const { createLogger } = (globalThis as any).flightlog;
              const log = createLogger({ dir: "observe", console: true, metrics: true });
              const job = log.child({ flow_id: "f-m", run_id: "r-m", job_id: "j-m" });
              job.info("step_end", {
                step_id: "s-1",
                step_type: "llm",
                status: "ok",
                duration_ms: 820,
              });
              job.warn("console_probe", { n: 42 });
              await log.flush();
              const text = await log.metrics();
              let serve: string;
              try {
                await createLogger({ dir: "observe2", metrics: { serve: true } }).close();
                serve = "created";
              } catch (err) {
                serve = `${(err as Error).name}: ${(err as Error).message}`;
              }
              await log.close();
              return { text, serve };
            });
            assert.match(r.text, /flightlog_steps_total\{step_type="llm",status="ok"\} 1\n/);
            assert.match(r.text, /flightlog_events_total\{level="warn"\} 1\n/);
            assert.match(r.serve, /^TypeError: Option metrics.serve needs a server runtime/);
            const probe = await line;
            assert.equal(probe.type(), "error"); // console.stream defaults to stderr
            assert.match(
              probe.text(),
              /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z console_probe level=warn flow_id=f-m .*n=42$/m,
            );
            assert.match(probe.text(), /step_end flow_id=f-m run_id=r-m .*status=ok/);
            await page.close();
          },
        );

        await t.step(
          `"${mode}": two tabs sharing one database keep each other's events`,
          async () => {
            const pages = [
              await openTestPage(chrome, server.url),
              await openTestPage(chrome, server.url),
            ];
            const counts = await Promise.all(pages.map((page, tab) =>
              page.evaluate(async (tab) => {
                // deno-lint-ignore no-explicit-any
                const { createLogger } = (globalThis as any).flightlog;
                const log = createLogger({ dir: "tabs" });
                for (let round = 0; round < 20; round++) {
                  for (let i = 0; i < 100; i++) {
                    log.info("e", { flow_id: "shared", tab, n: round * 100 + i });
                  }
                  await log.flush();
                }
                const s = log.stats();
                // deno-lint-ignore no-explicit-any
                (globalThis as any).log = log;
                return s.persisted;
              }, tab)
            ));
            assert.deepEqual(counts, [2000, 2000]);
            const r = await pages[0]!.evaluate(async () => {
              // deno-lint-ignore no-explicit-any
              const log = (globalThis as any).log;
              const trace = await log.getFlowLog("shared");
              const seen: Set<number>[] = [new Set(), new Set()];
              for (const e of trace.events) seen[e.fields.tab]!.add(e.fields.n);
              return { total: trace.events.length, tab0: seen[0]!.size, tab1: seen[1]!.size };
            });
            assert.deepEqual(r, { total: 4000, tab0: 2000, tab1: 2000 });
            for (const page of pages) {
              // deno-lint-ignore no-explicit-any
              await page.evaluate(() => (globalThis as any).log.close());
              await page.close();
            }
          },
        );
      });
    }
  }, (dist) => Deno.writeTextFile(`${dist}/test_sink.js`, TEST_SINK));
});
