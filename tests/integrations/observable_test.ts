import assert from "node:assert/strict";
import type { Logger } from "../../mod.ts";
import { flowEvents, withLogger } from "../support/test_logger.ts";
import { NODE_EVENTS, observable } from "../../src/integrations/observable.ts";
import { withContext } from "../../src/front/context.ts";
import { getCategoryFilter } from "../../src/front/category_filter.ts";

const INLINE_DEBUG = { transport: "inline", level: "debug" } as const;

Deno.test("observable() records entry and exit of a sync node with duration and a span", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    let t = 0;
    const add = observable(function add(a: number, b: number) {
      t += 3;
      return a + b;
    }, { logger: log.child({ flow_id: "f-sync" }), now: () => t });
    assert.equal(add(2, 3), 5);
    assert.equal(add.name, "add");
    const [entry, exit] = await flowEvents(log, "f-sync");
    assert.equal(entry?.event, NODE_EVENTS.entry);
    assert.equal(exit?.event, NODE_EVENTS.exit);
    assert.equal(entry?.fields.node, "add");
    assert.equal(entry?.fields.category, "node");
    assert.match(String(entry?.fields.span_id), /^[0-9a-f]{16}$/);
    assert.equal(exit?.fields.span_id, entry?.fields.span_id);
    assert.equal(exit?.fields.duration_ms, 3);
    assert.equal(entry?.fields.inputs, undefined, "no capture by default");
  });
});

Deno.test("observable() nests spans across await and keeps this", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const logger = log.child({ flow_id: "f-nest" });
    const inner = observable(async (x: number) => {
      await Promise.resolve();
      return x * 2;
    }, { logger, node: "inner" });
    const outer = observable(async function (this: { k: number }, x: number) {
      await Promise.resolve();
      return this.k + await inner(x);
    }, { logger, node: "outer" });
    assert.equal(await outer.call({ k: 1 }, 5), 11);
    const events = await flowEvents(log, "f-nest");
    assert.deepEqual(events.map((e) => `${e.event}:${e.fields.node}`), [
      "node_entry:outer",
      "node_entry:inner",
      "node_exit:inner",
      "node_exit:outer",
    ]);
    const outerSpan = events[0]!.fields.span_id;
    assert.equal(events[0]!.fields.parent_id, undefined);
    assert.equal(events[1]!.fields.parent_id, outerSpan);
    assert.equal(events[2]!.fields.parent_id, outerSpan);
    const flow = await log.getFlowLog("f-nest");
    assert.deepEqual(flow.spans.map((s) => [s.name, s.children.map((c) => c.name)]), [
      ["outer", ["inner"]],
    ]);
  });
});

Deno.test("observable() records node_error and rethrows the same error, sync and async", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const logger = log.child({ flow_id: "f-err" });
    const boom = Object.assign(new TypeError("bad"), { code: "E1" });
    const sync = observable(() => {
      throw boom;
    }, { logger, node: "sync" });
    const async_ = observable(() => Promise.reject(boom), { logger, node: "async" });
    assert.throws(() => sync(), (e) => e === boom);
    await assert.rejects(async_(), (e) => e === boom);
    const events = await flowEvents(log, "f-err");
    assert.deepEqual(events.map((e) => [e.event, e.level]), [
      ["node_entry", "info"],
      ["node_error", "error"],
      ["node_entry", "info"],
      ["node_error", "error"],
    ]);
    const error = events[1]!.fields.error as Record<string, unknown>;
    assert.deepEqual([error.type, error.message, error.code], ["TypeError", "bad", "E1"]);
    assert.equal(typeof events[1]!.fields.duration_ms, "number");
  });
});

Deno.test("observable() captures inputs and outputs bounded and redacted, without mutating them", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const input = { query: "x".repeat(50), api_key: "sk-live-1", list: [1, 2, 3, 4, 5] };
    const copy = structuredClone(input);
    const fn = observable((o: typeof input) => ({ token: "t-9", rows: o.list.length }), {
      logger: log.child({ flow_id: "f-cap" }),
      capture: { bounds: { maxStringLength: 10, maxArrayLength: 2 } },
    });
    fn(input);
    assert.deepEqual(input, copy);
    const [entry, exit] = await flowEvents(log, "f-cap");
    assert.deepEqual(entry?.fields.inputs, [{
      query: "xxxxxxxxxx…[+40 chars]",
      api_key: "[REDACTED]",
      list: [1, 2, "[+3 items]"],
    }]);
    assert.deepEqual(exit?.fields.output, { token: "[REDACTED]", rows: 5 });
  });
});

Deno.test("observable() returns the function itself when disabled", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const fn = (x: number) => x + 1;
    assert.equal(observable(fn, { logger: log, enabled: false }), fn);
    assert.equal(observable(fn, { logger: log, level: "trace" }), fn, "below the logger's level");
    const filter = getCategoryFilter("llm=debug,http=info");
    assert.equal(observable(fn, { logger: log, category: "http.get", level: "debug", filter }), fn);
    assert.notEqual(
      observable(fn, { logger: log, category: "llm.openai", level: "debug", filter }),
      fn,
    );
    assert.notEqual(
      observable(fn, { logger: log, category: "http", level: "info", filter: "http=info" }),
      fn,
    );
    await log.flush();
    assert.equal(log.stats().emitted, 0);
  });
});

Deno.test("observable() records provider latency and usage, ignoring a throwing extractor", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const logger = log.child({ flow_id: "f-prov" });
    const llm = observable(async () => await Promise.resolve({ tokens: 9 }), {
      logger,
      node: "chat",
      category: "llm",
      provider: {
        name: "anthropic",
        model: "m",
        usage: (r) => ({ input_tokens: 1, output_tokens: r.tokens, cost_usd: 0.5 }),
      },
    });
    const http = observable(() => "ok", {
      logger,
      node: "get",
      category: "http",
      provider: {
        name: "github",
        usage: () => {
          throw new Error("no usage");
        },
      },
    });
    await llm();
    await llm();
    http();
    const flow = await log.getFlowLog("f-prov");
    const exits = flow.events.filter((e) => e.event === "node_exit");
    assert.deepEqual(exits[0]?.fields.usage, {
      input_tokens: 1,
      output_tokens: 9,
      cost_usd: 0.5,
      total_tokens: 10,
    });
    assert.equal(exits[2]?.fields.provider, "github");
    assert.equal(exits[2]?.fields.usage, undefined);
    assert.equal(typeof exits[2]?.fields.latency_ms, "number");
    assert.deepEqual(
      [flow.summary.provider_calls, flow.summary.total_tokens, flow.summary.cost_usd],
      [2, 20, 1],
    );
  });
});

Deno.test("observable() events carry the withContext() correlation", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    const node = observable(() => 1, { logger: log, node: "n" });
    await withContext({ flow_id: "f-ctx", run_id: "r" }, async () => {
      await Promise.resolve();
      node();
    });
    const events = await flowEvents(log, "f-ctx");
    assert.deepEqual(events.map((e) => [e.event, e.fields.run_id]), [
      ["node_entry", "r"],
      ["node_exit", "r"],
    ]);
  });
});

Deno.test("observable() refuses bad arguments with a TypeError", async () => {
  await withLogger(INLINE_DEBUG, async (log) => {
    assert.throws(() => observable(5 as unknown as () => void, { logger: log }), TypeError);
    assert.throws(() => observable(() => {}, {} as { logger: Logger }), /logger/);
    assert.throws(() => observable(() => {}, { logger: log, level: "loud" as "info" }), /level/);
    assert.throws(() => observable(() => {}, { logger: log, filter: "x=loud" }), /x=loud/);
    await log.flush();
  });
});
