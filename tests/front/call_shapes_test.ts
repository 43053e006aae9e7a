/**
 * The shapes a level method takes besides `(event, fields?)`: pino's
 * `(err)`, `(err, event)`, `(event, err)` and `(fields, event)`, and lazy
 * fields `(event, () => fields)`; in every transport, through `mod.ts`.
 */
import assert from "node:assert/strict";
import { type Logger, withContext } from "../../mod.ts";
import { flowEvents, withLogger } from "../support/test_logger.ts";

const MODES = ["sab", "message", "inline"] as const;

function failure(): Error {
  const err = new Error("connection refused", { cause: new TypeError("socket closed") });
  Object.assign(err, { code: "ECONNREFUSED" });
  return err;
}

for (const mode of MODES) {
  Deno.test(`level methods take an Error and pino's argument order (${mode})`, async () => {
    await withLogger({ transport: mode, level: "debug" }, async (log) => {
      const flow = log.child({ flow_id: "f-err" });
      const err = failure();
      flow.error("reference", { err });
      flow.error(err);
      flow.error(err, "fetch_failed");
      flow.warn("fetch_failed", err);
      flow.fatal(err);
      flow.info({ user: 1, step_id: "login" }, "login");
      flow.debug("login", { user: 1, step_id: "login" });
      withContext({ run_id: "r-1" }, () => flow.error(err));
      const events = await flowEvents(log, "f-err");
      assert.deepEqual(events.map((e) => [e.event, e.level]), [
        ["reference", "error"],
        ["error", "error"],
        ["fetch_failed", "error"],
        ["fetch_failed", "warn"],
        ["error", "fatal"],
        ["login", "info"],
        ["login", "debug"],
        ["error", "error"],
      ]);
      const reference = events[0]!.fields;
      const serialized = reference.err as Record<string, unknown>;
      // The serializer of the { err } field: name, message, stack, cause chain, own properties.
      assert.equal(serialized.name, "Error");
      assert.equal(serialized.message, "connection refused");
      assert.match(serialized.stack as string, /^Error: connection refused\n/);
      assert.equal((serialized.cause as Record<string, unknown>).name, "TypeError");
      assert.equal(serialized.code, "ECONNREFUSED");
      for (const e of events.slice(1, 5)) assert.deepEqual(e.fields, reference);
      assert.deepEqual(events[5]!.fields, events[6]!.fields);
      assert.deepEqual(events[5]!.fields, { flow_id: "f-err", user: 1, step_id: "login" });
      assert.deepEqual(events[7]!.fields, { run_id: "r-1", ...reference });
    });
  });
}

Deno.test("level methods keep today's behaviour for every other shape", async () => {
  await withLogger({ transport: "inline" }, async (log) => {
    const flow = log.child({ flow_id: "f-other" });
    const err = new Error("x");
    // What plain JavaScript (or `any`) can pass; none of these is pino's shape.
    const untyped = flow.info as (...args: unknown[]) => void;
    untyped(["a"], "arrays are not fields");
    untyped(new URL("https://example.com/"), "not a plain object");
    untyped(err, { extra: 1 });
    untyped(42);
    untyped({ user: 1 });
    untyped("plain", "text");
    const hostile = new Proxy({}, {
      getPrototypeOf() {
        throw new Error("trap");
      },
    });
    untyped(hostile, "name");
    const events = await flowEvents(log, "f-other");
    assert.deepEqual(events.slice(0, 6).map((e) => [e.event, e.fields]), [
      ["a", { flow_id: "f-other", value: "arrays are not fields" }],
      ["https://example.com/", { flow_id: "f-other", value: "not a plain object" }],
      ["Error: x", { flow_id: "f-other", extra: 1 }],
      ["42", { flow_id: "f-other" }],
      ["[object Object]", { flow_id: "f-other" }],
      ["plain", { flow_id: "f-other", value: "text" }],
    ]);
    // A hostile Proxy as the first argument is recorded as the encoder records it; no throw.
    assert.equal(events.length, 7);
    assert.deepEqual(events[6]!.fields, { flow_id: "f-other", value: "name" });
    assert.equal(log.stats().dropped, 0);
  });
});

Deno.test("LogMethod's overloads accept pino's shapes and still refuse the rest", () => {
  // Type-level only: never called.
  const shapes = (log: Logger): void => {
    log.error(new Error("x"));
    log.error(new RangeError("x"), "event");
    log.error("event", new Error("x"));
    log.info({ a: 1 }, "event");
    log.info("event", () => ({ a: 1 }));
    // @ts-expect-error a number is no event name
    log.info(42);
    // @ts-expect-error pino's order needs the event name second
    log.info({ a: 1 }, { b: 2 });
  };
  assert.equal(typeof shapes, "function");
});

for (const mode of MODES) {
  Deno.test(`lazy fields are built only when the level is enabled (${mode})`, async () => {
    await withLogger({ transport: mode, level: "info" }, async (log) => {
      const flow = log.child({ flow_id: "f-lazy" });
      let calls = 0;
      const build = () => {
        calls++;
        return { size: 3, calls };
      };
      flow.debug("skipped", build);
      assert.equal(calls, 0);
      flow.info("built", build);
      flow.child({ step_id: "s" }, { level: "debug" }).debug("built_child", build);
      assert.equal(calls, 2);
      const events = await flowEvents(log, "f-lazy");
      assert.deepEqual(events.map((e) => [e.event, e.fields]), [
        ["built", { flow_id: "f-lazy", size: 3, calls: 1 }],
        ["built_child", { flow_id: "f-lazy", step_id: "s", size: 3, calls: 2 }],
      ]);
    });
  });
}

Deno.test("lazy fields that throw, log or return a non-object never throw out of the call", async () => {
  await withLogger({ transport: "inline" }, async (log) => {
    const flow = log.child({ flow_id: "f-lazy-edge" });
    assert.doesNotThrow(() =>
      flow.info("throws", () => {
        throw new Error("not built");
      })
    );
    // The function runs before the event is encoded, so an event it logs is kept, first.
    flow.info("outer", () => {
      flow.info("inner");
      return { ok: true };
    });
    flow.info("text", (() => "just text") as unknown as () => Record<string, unknown>);
    flow.info("error", () => ({ err: new Error("e") }));
    const events = await flowEvents(log, "f-lazy-edge");
    assert.deepEqual(events.slice(0, 4).map((e) => [e.event, e.fields]), [
      // What a hostile Proxy whose keys cannot be listed gets.
      ["throws", { flow_id: "f-lazy-edge", "…": "[Unserializable fields]" }],
      ["inner", { flow_id: "f-lazy-edge" }],
      ["outer", { flow_id: "f-lazy-edge", ok: true }],
      ["text", { flow_id: "f-lazy-edge", value: "just text" }],
    ]);
    assert.equal((events[4]!.fields.err as Record<string, unknown>).message, "e");
    const s = log.stats();
    assert.equal(s.emitted, 5);
    assert.equal(s.dropped, 0);
  });
});
