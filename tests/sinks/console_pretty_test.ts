import assert from "node:assert/strict";
import fc from "fast-check";
import { BOUND_IDS, PrettyFormatter } from "../../src/sinks/console_pretty.ts";
import { BoundLogEvent, type LogEvent } from "../../src/event.ts";
import { HOSTILE, LINE_BREAK, UNSAFE_RAW } from "../support/text_line.ts";

const T0 = 1_700_000_000_000;

function ev(
  event: string,
  fields: Record<string, unknown>,
  level: LogEvent["level"] = "info",
  ts_ms = T0,
): LogEvent {
  const severity = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 }[level];
  return { ts_ms, level, severity, event, producer: "p.0", seq: 1, fields };
}

function bound(
  event: string,
  bindings: Record<string, unknown>,
  call: Record<string, unknown>,
  level: LogEvent["level"] = "info",
): LogEvent {
  const severity = { trace: 1, debug: 5, info: 9, warn: 13, error: 17, fatal: 21 }[level];
  return new BoundLogEvent(T0, level, severity, event, "p.0", 1, bindings, call);
}

const plain = () => new PrettyFormatter({ colors: false, time: "iso", startMs: 0 });

Deno.test("PrettyFormatter.format() writes the time, the level, the event and the fields", () => {
  const p = plain();
  assert.equal(
    p.format(ev("ready", { port: 8080 })),
    "2023-11-14T22:13:20.000Z INFO  ready port=8080",
  );
  assert.equal(
    p.format(ev("slow query", { ms: 812, sql: "select 1" }, "warn")),
    '2023-11-14T22:13:20.000Z WARN  "slow query" ms=812 sql="select 1"',
  );
  assert.equal(
    p.format(ev("x", { level: "error" }, "debug")),
    "2023-11-14T22:13:20.000Z DEBUG x fields.level=error",
  );
  const elapsed = new PrettyFormatter({ colors: false, time: "elapsed", startMs: T0 - 1500 });
  assert.equal(elapsed.format(ev("tick", {})), "+1.500s INFO  tick");
  const none = new PrettyFormatter({ colors: false, time: false, startMs: 0 });
  assert.equal(none.format(ev("tick", {}, "fatal")), "FATAL tick");
});

Deno.test("PrettyFormatter.format() shows bound ids once per change, on a header line", () => {
  const p = new PrettyFormatter({ colors: false, time: false, startMs: 0 });
  const run1 = { flow_id: "demo", run_id: "r-1", component: "db" };
  const run2 = { flow_id: "demo", run_id: "r-2" };
  const out = [
    p.format(ev("boot", { flow_id: "call-field" })),
    p.format(bound("run_start", run1, { mode: "fast" })),
    p.format(bound("query", run1, { rows: 3 })),
    // Another bindings object with the same ids: no new header.
    p.format(bound("query", { ...run1 }, { rows: 4 })),
    p.format(bound("run_start", run2, {})),
    // A call field named like a bound id is the event's own: on its line.
    p.format(bound("moved", run2, { run_id: "r-3" })),
    // A call field named like another binding replaces it, once.
    p.format(bound("query", run1, { component: "cache" })),
    p.format(bound("step_end", run2, { status: "ok" }, "warn")),
    p.format(ev("shutdown", {})),
  ].join("\n");
  assert.equal(
    out,
    [
      "INFO  boot flow_id=call-field",
      "── flow_id=demo run_id=r-1",
      "INFO  run_start component=db mode=fast",
      "INFO  query component=db rows=3",
      "INFO  query component=db rows=4",
      "── flow_id=demo run_id=r-2",
      "INFO  run_start",
      "── flow_id=demo",
      "INFO  moved run_id=r-3",
      "── flow_id=demo run_id=r-1",
      "INFO  query component=cache",
      "── flow_id=demo run_id=r-2",
      "WARN  step_end status=ok",
      "── (no bound ids)",
      "INFO  shutdown",
    ].join("\n"),
  );
  for (
    const id of ["flow_id", "run_id", "job_id", "step_id", "trace_id", "span_id", "traceparent"]
  ) {
    assert.ok(BOUND_IDS.has(id), id);
  }
});

Deno.test("PrettyFormatter.format() writes error stacks, causes included, on their own indented lines", () => {
  const p = new PrettyFormatter({ colors: false, time: false, startMs: 0 });
  const cause = new TypeError("bad path");
  const err = new Error("no such file", { cause });
  // As the redactor copies an Error into the fields.
  const copy = (e: Error): Record<string, unknown> => ({
    name: e.name,
    message: e.message,
    stack: e.stack,
    ...(e.cause instanceof Error ? { cause: copy(e.cause) } : {}),
  });
  const lines = p.format(ev("load_failed", { err: copy(err), path: "/a" }, "error")).split("\n");
  assert.equal(
    lines[0],
    'ERROR load_failed err={"name":"Error","message":"no such file",' +
      '"cause":{"name":"TypeError","message":"bad path"}} path=/a',
  );
  const stack = err.stack!.split("\n");
  const causeStack = cause.stack!.split("\n");
  assert.deepEqual(lines.slice(1), [
    `    err: ${stack[0]}`,
    ...stack.slice(1).map((l) => `    ${l}`),
    `    err.cause: ${causeStack[0]}`,
    ...causeStack.slice(1).map((l) => `    ${l}`),
  ]);
  assert.ok(lines.length > 3, "the stacks have frames");
});

Deno.test("PrettyFormatter.format() colors the level and dims the rest only when asked", () => {
  const p = new PrettyFormatter({ colors: true, time: "iso", startMs: 0 });
  assert.equal(
    p.format(bound("boom", { flow_id: "f" }, { code: "E1" }, "error")),
    "\x1b[2m── flow_id=f\x1b[0m\n" +
      "\x1b[2m2023-11-14T22:13:20.000Z\x1b[0m \x1b[31mERROR\x1b[0m boom \x1b[2mcode=\x1b[0mE1",
  );
  // A value's own escape sequences stay escaped with colors on.
  assert.ok(p.format(ev("x", { v: "\x1b[2J" })).includes('v=\x1b[0m"\\u001b[2J"'));
  assert.ok(!plain().format(bound("boom", { flow_id: "f" }, {}, "error")).includes("\x1b"));
});

// Every line the pretty format writes starts with the time of an event, the
// header mark, or four spaces (a stack line).
const LINE_START =
  /^(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (?:TRACE|DEBUG|INFO |WARN |ERROR|FATAL) |── | {4})/;

Deno.test("PrettyFormatter.format() lets no name, value, error message or stack forge a line (fast-check)", () => {
  const hostile = fc.oneof(
    fc.constantFrom(
      ...HOSTILE,
      "\n2023-11-14T22:13:20.000Z ERROR forged",
      "x\r── flow_id=forged",
      "\u2028    err: Error: forged",
    ),
    fc.string({ unit: "binary", maxLength: 8 }),
  );
  const fields = fc.dictionary(
    hostile,
    fc.oneof(
      hostile,
      fc.record({ name: hostile, message: hostile, stack: hostile }),
      fc.record({
        message: hostile,
        stack: hostile,
        cause: fc.record({ message: hostile, stack: hostile }),
      }),
    ),
    { maxKeys: 3, noNullPrototype: true },
  );
  const event = fc.tuple(
    fc.boolean(),
    hostile,
    fields,
    fc.dictionary(fc.oneof(fc.constantFrom("flow_id", "run_id"), hostile), hostile, {
      maxKeys: 3,
      noNullPrototype: true,
    }),
  ).map(([isBound, name, call, bindings]) =>
    isBound ? bound(name, bindings, call, "warn") : ev(name, call, "warn")
  );
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 5 }), (events) => {
      const p = plain();
      const out = events.map((e) => p.format(e)).join("\n");
      const lines = out.split("\n");
      for (const line of lines) {
        assert.doesNotMatch(line, UNSAFE_RAW);
        assert.match(line, LINE_START, JSON.stringify(line));
      }
      assert.equal(out.split(LINE_BREAK).length, lines.length);
      assert.equal(lines.filter((l) => /^\d/.test(l)).length, events.length);
    }),
    { numRuns: 100 },
  );
});
