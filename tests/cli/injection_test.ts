/**
 * Text injection through the CLI: event names, keys, values, span names and
 * error messages made of CR, LF, U+2028/2029, NUL, ANSI escapes, bidi
 * overrides and markup. Every output that prints events has one line per
 * event and decodes back to the original strings; no output carries a raw
 * control, separator or format character. A lone surrogate comes back as
 * itself (escaped as `\uXXXX` in quoted tokens and JSON), never as U+FFFD.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createLogger } from "../../mod.ts";
import { eventToText } from "../../src/cli/_event_text.ts";
import { escapeControls } from "../../src/sinks/console_format.ts";
import { eventToJson } from "../../src/export/jsonl.ts";
import { HOSTILE, LINE_BREAK, parseTextLine, UNSAFE_RAW } from "../support/text_line.ts";
import { cli } from "./_run.ts";
import { makeEvent } from "../support/log_event.ts";

const FLOW = "inject";

/** Logs each hostile string as an event name, a key, a value, a node name and an error message. */
async function writeStore(
  dir: string,
): Promise<{ event: string; fields: Record<string, unknown> }[]> {
  const log = createLogger({ dir, transport: "inline", exitHooks: false, redact: false });
  const flow = log.child({ flow_id: FLOW });
  const logged: { event: string; fields: Record<string, unknown> }[] = [];
  const write = (level: "info" | "error", event: string, fields: Record<string, unknown>) => {
    flow[level](event, fields);
    logged.push({ event, fields: { flow_id: FLOW, ...fields } });
  };
  HOSTILE.forEach((s, i) => {
    write("info", s, { [s]: s, plain: "ok" });
    write("info", "node_start", { span_id: `s${i}`, node: s });
    write("error", "node_error", { span_id: `s${i}`, node: s, error: s });
  });
  await log.close();
  return logged;
}

/** The lines of an output that ends with a newline, split on every kind of line break. */
function lines(stdout: string): string[] {
  const out = stdout.split(LINE_BREAK);
  assert.equal(out.pop(), "", "the output ends with a newline");
  for (const line of out) assert.doesNotMatch(line, UNSAFE_RAW, `raw control in ${line}`);
  return out;
}

Deno.test("CLI query, tail and export write one decodable line per hostile event", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-cli-inject-" });
  try {
    const logged = await writeStore(dir);
    const [text, tail, jsonl, exportJsonl, json, exportJson] = await Promise.all([
      cli("query", dir, "--limit", "1000"),
      cli("tail", dir, "-n", "1000"),
      cli("query", dir, "--format", "jsonl", "--limit", "1000"),
      cli("export", dir, "--format", "jsonl", "-q"),
      cli("query", dir, "--format", "json", "--limit", "1000"),
      cli("export", dir, "--format", "json", "-q"),
    ]);
    for (const run of [text, tail, jsonl, exportJsonl, json, exportJson]) {
      assert.equal(run.code, 0, run.stderr);
    }
    for (const run of [text, tail]) {
      const got = lines(run.stdout).map((line) => {
        // `<ISO time> <LEVEL> ` then the console's `event key=value ...` tokens.
        const [, rest] = line.match(/^\S+ [A-Z]+ +(.*)$/s)!;
        const [event, pairs] = parseTextLine(rest!);
        return { event, fields: Object.fromEntries(pairs) };
      });
      assert.equal(got.length, logged.length, "one text line per event");
      got.forEach((g, i) => {
        const want = logged[i] as { event: string; fields: Record<string, unknown> };
        assert.equal(g.event, want.event);
        // Non-string values are written as JSON; here every hostile value is a string.
        for (const [k, v] of Object.entries(want.fields)) {
          assert.equal(g.fields[k], v, `${JSON.stringify(k)} of line ${i}`);
        }
      });
    }
    for (const run of [jsonl, exportJsonl]) {
      const got = lines(run.stdout).map((line) => JSON.parse(line));
      assert.deepEqual(got.map((e) => ({ event: e.event, fields: e.fields })), logged);
    }
    for (const run of [json, exportJson]) {
      lines(run.stdout);
      const got = JSON.parse(run.stdout) as { event: string; fields: unknown }[];
      assert.deepEqual(got.map((e) => ({ event: e.event, fields: e.fields })), logged);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI export --format otlp, show and flows escape hostile names and messages", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-cli-inject-" });
  try {
    const logged = await writeStore(dir);
    const [otlp, show, showJson, flows, flowsJson] = await Promise.all([
      cli("export", dir, "--format", "otlp", "-q"),
      cli("show", dir, FLOW),
      cli("show", dir, FLOW, "--json"),
      cli("flows", dir),
      cli("flows", dir, "--json"),
    ]);
    for (const run of [otlp, show, showJson, flows, flowsJson]) {
      assert.equal(run.code, 0, run.stderr);
    }
    // One OTLP request per line: the logs, then the flow's traces.
    const requests = lines(otlp.stdout).map((line) => JSON.parse(line));
    assert.equal(requests.length, 2);
    const bodies = requests[0].resourceLogs[0].scopeLogs[0].logRecords.map(
      (r: { body: { stringValue: string } }) => r.body.stringValue,
    );
    assert.deepEqual(bodies, logged.map((e) => e.event));
    const spanNames = requests[1].resourceSpans[0].scopeSpans[0].spans.map(
      (s: { name: string }) => s.name,
    );
    assert.deepEqual(new Set(spanNames), new Set(HOSTILE));
    // The span tree: a header, one line per span, then the summary lines.
    const tree = lines(show.stdout);
    assert.equal(tree.length, 1 + HOSTILE.length + 3, show.stdout);
    const shown = JSON.parse(showJson.stdout);
    lines(showJson.stdout);
    assert.deepEqual(
      new Set(shown.spans.map((s: { status_message: string }) => s.status_message)),
      new Set(HOSTILE),
    );
    assert.equal(lines(flows.stdout).length, 2, "a header and the flow");
    lines(flowsJson.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI show writes a hostile stack with its line breaks, each line escaped under its span", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-cli-inject-" });
  try {
    // Lone surrogates aside: how the store keeps them is the codec's business.
    const stack = HOSTILE.filter((s) => s.isWellFormed()).join("\n");
    const log = createLogger({ dir, transport: "inline", exitHooks: false, redact: false });
    log.child({ flow_id: FLOW }).error("node_error", {
      span_id: "s1",
      node: "n",
      error: { message: "m", stack },
    });
    await log.close();
    const show = await cli("show", dir, FLOW);
    assert.equal(show.code, 0, show.stderr);
    const out = lines(show.stdout);
    const pieces = stack.split(LINE_BREAK).filter((piece) => piece.trim() !== "");
    assert.match(out[1]!, /^n \(node\) error /);
    // Each piece on a line of its own, indented under the span (no forged tree row).
    assert.deepEqual(out.slice(2, 2 + pieces.length), pieces.map((p) => "  " + escapeControls(p)));
    assert.deepEqual(out.slice(2 + pieces.length).map((line) => line.split(":")[0]), [
      "levels",
      "events",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eventToText() and eventToJson() write one inert line that decodes back, for any strings (fast-check)", () => {
  // Any code point, with the hostile ones (and lone surrogate halves) made common.
  const unit = fc.oneof(
    fc.constantFrom(
      "\n",
      "\r",
      "\u2028",
      "\u2029",
      "\0",
      "\x1b",
      "\u202e",
      "\x7f",
      "\x9b",
      "\u0085",
      "\ud800",
      "\udc00",
      '"',
      "\\",
      " ",
      "=",
      "<",
      "\u{e0041}",
    ),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  );
  const text = fc.string({ unit, maxLength: 12 });
  fc.assert(
    fc.property(text, text, text, fc.boolean(), (event, key, value, color) => {
      const e = makeEvent(1, { [key]: value }, { event, seq: 1 });
      const line = eventToText(e, color);
      const json = eventToJson(e);
      assert.equal(line.split(LINE_BREAK).length, 1);
      assert.equal(json.split(LINE_BREAK).length, 1);
      assert.doesNotMatch(json, UNSAFE_RAW);
      if (!color) {
        assert.doesNotMatch(line, UNSAFE_RAW);
        const [, rest] = line.match(/^\S+ [A-Z]+ +(.*)$/s)!;
        const [gotEvent, pairs] = parseTextLine(rest!);
        assert.deepEqual([gotEvent, pairs], [event, [[key, value]]]);
      }
      const back = JSON.parse(json);
      assert.equal(back.event, event);
      assert.deepEqual(back.fields, { [key]: value });
    }),
    { numRuns: 500 },
  );
});
