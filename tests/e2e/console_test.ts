/**
 * Console output of a real process: stderr has exactly one line per event,
 * whatever the strings, in the text format or, with FLIGHTLOG_FORMAT=json,
 * as JSON, decoding back to the logged strings (lone surrogates included); no
 * color codes when stderr is not a terminal.
 */
import assert from "node:assert/strict";
import { HOSTILE, ISO_TIME, LINE_BREAK, parseConsoleLine } from "../support/text_line.ts";
import { runFixtureWithInput } from "../support/fixture_process.ts";

const fixture = new URL("./fixtures/console_lines.ts", import.meta.url).pathname;

async function run(
  transport: string,
  env: Record<string, string>,
  end = "close",
): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-console-" });
  try {
    const out = await runFixtureWithInput(fixture, [dir, transport, end], HOSTILE, env);
    const stderr = out.stderr;
    assert.equal(out.code, 0, stderr);
    assert.ok(!stderr.includes("\x1b"), "no ANSI escape on a non-terminal stderr");
    const lines = stderr.split(LINE_BREAK);
    assert.equal(lines.pop(), "");
    return lines;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const transport of ["sab", "inline"]) {
  Deno.test(`console text: one stderr line per event, decoding back to the input (${transport})`, async () => {
    const lines = await run(transport, { FLIGHTLOG_FORMAT: "" });
    assert.equal(lines.length, HOSTILE.length * 2);
    for (let i = 0; i < HOSTILE.length; i++) {
      const s = HOSTILE[i]!;
      const [time, ...rest] = parseConsoleLine(lines[2 * i]!);
      assert.match(time, ISO_TIME);
      assert.deepEqual(rest, [s, [[s, s], ["plain", "ok"]]]);
      assert.deepEqual(parseConsoleLine(lines[2 * i + 1]!).slice(1), [
        "dbg",
        [["level", "debug"], ["v", s]],
      ]);
    }
  });
}

Deno.test("console JSON: FLIGHTLOG_FORMAT=json writes one object per event", async () => {
  const lines = await run("sab", { FLIGHTLOG_FORMAT: "json" });
  assert.equal(lines.length, HOSTILE.length * 2);
  const objects = lines.map((l) => JSON.parse(l));
  for (let i = 0; i < HOSTILE.length; i++) {
    const s = HOSTILE[i]!;
    const o = objects[2 * i];
    assert.equal(o.event, s);
    assert.equal(typeof o.ts_ms, "number");
    assert.equal(o.plain, "ok");
    assert.equal(o[s], s);
    assert.deepEqual(objects[2 * i + 1].v, s);
  }
});

Deno.test("console text: every event logged before Deno.exit() is on stderr (exit hook flush)", async () => {
  const lines = await run("sab", { FLIGHTLOG_FORMAT: "" }, "exit");
  assert.equal(lines.length, HOSTILE.length * 2);
  assert.deepEqual(parseConsoleLine(lines.at(-1)!).slice(1), ["dbg", [["level", "debug"], [
    "v",
    HOSTILE.at(-1)!,
  ]]]);
});
