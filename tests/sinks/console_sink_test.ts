import assert from "node:assert/strict";
import { ConsoleSink } from "../../src/sinks/console_sink.ts";
import type { LogEvent } from "../../src/event.ts";
import { makeEvent } from "../support/log_event.ts";
import { PLAIN_CONSOLE } from "../support/text_line.ts";

function ev(event: string, severity: number): LogEvent {
  const level = severity >= 13 ? "warn" : "info";
  return makeEvent(5, {}, { event, level, severity, producer: "p", seq: 1 });
}

Deno.test("ConsoleSink.observe() writes a batch in one call, at or above the threshold", () => {
  const writes: string[] = [];
  const sink = new ConsoleSink(
    { format: "json", minSeverity: 13, colors: false, time: false, startMs: 0, stream: "stdout" },
    (t) => writes.push(t),
  );
  sink.observe([ev("a", 9), ev("b", 13), ev("c", 13)]);
  sink.observe([ev("d", 9)]);
  assert.deepEqual(writes, [
    '{"ts_ms":5,"level":"warn","event":"b"}\n{"ts_ms":5,"level":"warn","event":"c"}\n',
  ]);
  assert.equal(sink.lines, 2);
});

Deno.test("ConsoleSink.observe() counts a failing write instead of throwing", () => {
  const sink = new ConsoleSink(
    PLAIN_CONSOLE,
    () => {
      throw new Error("EPIPE");
    },
  );
  sink.observe([ev("a", 9)]);
  assert.equal(sink.writeErrors, 1);
  assert.equal(sink.lines, 0);
});
