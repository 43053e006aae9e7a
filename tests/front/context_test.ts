import assert from "node:assert/strict";
import {
  CONTEXT_ACROSS_AWAIT,
  contextFromHeaders,
  getContext,
  getTraceHeaders,
  withContext,
} from "../../src/front/context.ts";

Deno.test("withContext() binds across await, timers and nested calls", async () => {
  assert.equal(
    CONTEXT_ACROSS_AWAIT,
    true,
    "AsyncLocalStorage found through process.getBuiltinModule",
  );
  const seen: unknown[] = [];
  await withContext({ flow_id: "f", run_id: "r" }, async () => {
    await Promise.resolve();
    seen.push(getContext().run_id);
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    await withContext({ run_id: "r2", step_id: "s" }, async () => {
      await null;
      seen.push({ ...getContext() });
    });
    seen.push({ ...getContext() });
  });
  assert.deepEqual(seen, [
    "r",
    { flow_id: "f", run_id: "r2", step_id: "s" },
    { flow_id: "f", run_id: "r" },
  ]);
  assert.deepEqual(getContext(), {});
});

Deno.test("withContext() keeps concurrent flows apart", async () => {
  const flow = (id: string) =>
    withContext({ flow_id: id }, async () => {
      const ids: unknown[] = [];
      for (let i = 0; i < 5; i++) {
        await Promise.resolve();
        ids.push(getContext().flow_id);
      }
      return ids;
    });
  const [a, b] = await Promise.all([flow("a"), flow("b")]);
  assert.deepEqual(a, ["a", "a", "a", "a", "a"]);
  assert.deepEqual(b, ["b", "b", "b", "b", "b"]);
});

Deno.test("withContext() returns fn's value, rethrows its error, never mutates bindings", () => {
  const bindings = { flow_id: "f" };
  assert.equal(withContext(bindings, () => 42), 42);
  assert.throws(() =>
    withContext(bindings, () => {
      throw new RangeError("boom");
    }), RangeError);
  assert.deepEqual(bindings, { flow_id: "f" });
  assert.ok(Object.isFrozen(withContext(bindings, () => getContext())));
  assert.throws(() => withContext(null as unknown as Record<string, unknown>, () => 1), TypeError);
  assert.throws(() => withContext({}, 5 as unknown as () => void), TypeError);
});

Deno.test("contextFromHeaders() continues a valid traceparent and ignores an invalid one", () => {
  const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  assert.deepEqual(contextFromHeaders({ TraceParent: tp, tracestate: "a=1" }), {
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    parent_id: "00f067aa0ba902b7",
    traceparent: tp,
    tracestate: "a=1",
  });
  // A later version's extra fields are not passed on: version 00 is what we speak.
  assert.equal(
    contextFromHeaders({ traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x" })
      .traceparent,
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
  );
  assert.deepEqual(contextFromHeaders(new Headers({ traceparent: "garbage" })), {});
  assert.deepEqual(contextFromHeaders({}), {});
});

Deno.test("getTraceHeaders() produces traceparent and tracestate from the context", () => {
  const ctx = {
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
    span_id: "a1b2c3d4e5f60718",
    tracestate: "a=1",
  };
  assert.deepEqual(withContext(ctx, getTraceHeaders), {
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-a1b2c3d4e5f60718-01",
    tracestate: "a=1",
  });
  assert.deepEqual(withContext({ trace_id: "nope", span_id: "x" }, getTraceHeaders), {});
});
