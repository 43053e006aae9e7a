import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatJson,
  formatText,
  type FormatTextOptions,
  quoteText,
} from "../../src/sinks/console_format.ts";
import { ConsoleSink } from "../../src/sinks/console_sink.ts";
import { BoundLogEvent, type LogEvent } from "../../src/event.ts";
import {
  ISO_TIME,
  LINE_BREAK,
  parseConsoleLine,
  parseTextLine,
  PLAIN_CONSOLE,
} from "../support/text_line.ts";
import { makeEvent } from "../support/log_event.ts";

// Raw characters that move the cursor, recolor or reorder (built from text:
// control characters in a regex literal are what the linter forbids).
const RAW_UNSAFE_TEXT = new RegExp(
  String.raw`[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]`,
);
const RAW_UNSAFE_JSON = new RegExp(
  String.raw`[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]`,
);

// The text format without its time token: what most tests here look at.
const NO_TIME: FormatTextOptions = { time: false };
const COLORS: FormatTextOptions = { time: false, colors: true };

function ev(event: string, fields: Record<string, unknown>, level: LogEvent["level"] = "info") {
  return makeEvent(1_700_000_000_000, fields, { event, level, producer: "p.0", seq: 1 });
}

// Strings biased towards what forges or hides lines: controls, ANSI, bidi,
// separators, quotes, backslashes, lone surrogates, astral tag characters.
const NASTY = [
  "\n",
  "\r",
  "\r\n",
  "\x1b[2J",
  "\x1b]0;title\x07",
  "\u2028",
  "\u2029",
  "\u0085",
  "\v",
  "\f",
  "\u202e",
  "\u2066",
  "\u200b",
  "\ufeff",
  "\u00a0",
  "\x00",
  "\x7f",
  "\x9b",
  '"',
  "\\",
  "=",
  " ",
  "\ud800",
  "\udfff",
  "\u{e0041}",
  "step_end status=ok",
  '" x="',
];
const nasty = fc.array(
  fc.oneof(fc.constantFrom(...NASTY), fc.string({ unit: "binary", maxLength: 4 })),
  { maxLength: 8 },
).map((parts) => parts.join(""));
const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 })
  .map((units) => String.fromCharCode(...units));
const anyString = fc.oneof(nasty, codeUnits, fc.string({ unit: "binary" }));

/** Up to four fields, any strings as keys and values. */
const anyFields = fc.array(fc.tuple(anyString, anyString), { maxLength: 4 })
  .map((pairs) => Object.fromEntries(pairs));

Deno.test("formatText() writes one line per event for any event name, key or value (fast-check)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(anyString, fc.array(fc.tuple(anyString, anyString), { maxLength: 4 })), {
        minLength: 1,
        maxLength: 6,
      }),
      (events) => {
        let out = "";
        const sink = new ConsoleSink(PLAIN_CONSOLE, (t) => (out += t));
        sink.observe(events.map(([name, pairs]) => ev(name, Object.fromEntries(pairs))));
        const lines = out.split(LINE_BREAK);
        assert.equal(lines.pop(), "");
        assert.equal(lines.length, events.length);
        // Nothing that moves the cursor, recolors or reorders survives raw.
        assert.doesNotMatch(out, RAW_UNSAFE_TEXT);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("formatText() escapes decode back to the original strings (fast-check)", () => {
  fc.assert(
    fc.property(
      anyString,
      anyFields,
      (name, fields) => {
        const [event, parsed] = parseTextLine(formatText(ev(name, fields), NO_TIME));
        assert.equal(event, name);
        // A field named level is written fields.level: it cannot pass for the level.
        const expected = Object.entries(fields).map((
          [k, v],
        ) => [k === "level" ? "fields.level" : k, v]);
        assert.deepEqual(parsed, expected);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("quoteText() writes safe tokens bare and everything else as a JSON string", () => {
  assert.equal(quoteText("fetch-1"), "fetch-1");
  assert.equal(quoteText("a/b:c@d.e+f,g_h"), "a/b:c@d.e+f,g_h");
  assert.equal(quoteText(""), '""');
  assert.equal(quoteText("two words"), '"two words"');
  assert.equal(quoteText("k=v"), '"k=v"');
  assert.equal(quoteText("\x1b[31mred"), '"\\u001b[31mred"');
  assert.equal(quoteText("a\u2028b\u2029c"), '"a\\u2028b\\u2029c"');
  assert.equal(quoteText("\u202egnp.exe"), '"\\u202egnp.exe"');
  assert.equal(quoteText("\u0085"), '"\\u0085"');
  assert.equal(quoteText("\ud800"), '"\\ud800"');
  assert.equal(quoteText("\u{e0041}"), '"\\udb40\\udc41"');
  assert.equal(quoteText("café"), '"café"');
  assert.equal(JSON.parse(quoteText('say "hi" \\ bye')), 'say "hi" \\ bye');
});

Deno.test("formatText() writes numbers, booleans, null, bigints, dates and objects readably", () => {
  const line = formatText(
    ev("step_end", {
      n: 12.5,
      z: -0,
      inf: -Infinity,
      nan: NaN,
      ok: true,
      none: null,
      u: undefined,
      big: 12345678901234567890n,
      at: new Date(0),
      obj: { a: 1, b: [true, "x"] },
      spaced: { msg: "two words" },
    }),
    NO_TIME,
  );
  assert.equal(
    line,
    "step_end n=12.5 z=-0 inf=-Infinity nan=NaN ok=true none=null u=undefined " +
      'big=12345678901234567890 at=1970-01-01T00:00:00.000Z obj={"a":1,"b":[true,"x"]} ' +
      'spaced={"msg":"two words"}',
  );
});

Deno.test("formatText() adds level= for levels other than info and colors only when asked", () => {
  assert.equal(formatText(ev("slow", { ms: 3 }, "warn"), NO_TIME), "slow level=warn ms=3");
  assert.equal(formatText(ev("ok", {}), NO_TIME), "ok");
  const colored = formatText(ev("boom", { code: "E1" }, "error"), COLORS);
  assert.equal(colored, "\x1b[31mboom\x1b[0m \x1b[2mlevel=\x1b[0merror \x1b[2mcode=\x1b[0mE1");
  // A value's own escape sequences stay escaped even with colors on.
  assert.ok(formatText(ev("x", { v: "\x1b[2J" }), COLORS).includes("\\u001b[2J"));
});

Deno.test("formatJson() writes one object per line that parses back to the event", () => {
  fc.assert(
    fc.property(
      anyString,
      anyFields,
      (name, fields) => {
        const line = formatJson(ev(name, fields));
        assert.equal(line.split(LINE_BREAK).length, 1);
        assert.doesNotMatch(line, RAW_UNSAFE_JSON);
        const parsed = JSON.parse(line);
        assert.equal(parsed.event, name);
        assert.equal(parsed.ts_ms, 1_700_000_000_000);
        assert.equal(parsed.level, "info");
        for (const [k, v] of Object.entries(fields)) {
          const key = k === "ts_ms" || k === "level" || k === "event" ? `fields.${k}` : k;
          assert.equal(parsed[key], v);
        }
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("formatJson() keeps bigints, non-finite numbers and dates as readable values", () => {
  const line = formatJson(ev("e", {
    big: 2n ** 70n,
    nan: NaN,
    inf: Infinity,
    at: new Date(0),
    nested: { x: [1, -Infinity], u: undefined },
    gone: undefined,
  }));
  assert.deepEqual(JSON.parse(line), {
    ts_ms: 1_700_000_000_000,
    level: "info",
    event: "e",
    big: "1180591620717411303424",
    nan: "NaN",
    inf: "Infinity",
    at: "1970-01-01T00:00:00.000Z",
    nested: { x: [1, "-Infinity"] },
  });
});

Deno.test("formatText() and formatJson() of a child logger's event equal those of its merged fields (fast-check)", () => {
  // No array-index keys ("0"): a plain object lists them first, so the merged
  // object this test compares with would differ in key order only.
  const key = fc.oneof(fc.constantFrom("flow_id", "run_id", "status", "event"), anyString)
    .filter((k) => String(Number(k) >>> 0) !== k);
  const pairs = fc.array(fc.tuple(key, fc.oneof(anyString, fc.integer())), { maxLength: 5 });
  fc.assert(
    fc.property(pairs, pairs, pairs, (b, c1, c2) => {
      const bindings = Object.fromEntries(b);
      for (const c of [c1, c2]) { // the second call reuses the cached bindings text
        const call = Object.fromEntries(c);
        const bound = new BoundLogEvent(0, "warn", 13, "e", "p.0", 1, bindings, call);
        const plain = { ...ev("e", { ...bindings, ...call }, "warn") };
        assert.equal(formatText(bound, NO_TIME), formatText(plain, NO_TIME));
        assert.equal(formatText(bound, COLORS), formatText(plain, COLORS));
        assert.equal(formatJson(bound), formatJson({ ...plain, ts_ms: 0 }));
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("formatText() starts each line with the ISO time in UTC to the millisecond, or the time since start", () => {
  const at = (ts_ms: number, o?: FormatTextOptions) => formatText({ ...ev("e", {}), ts_ms }, o);
  assert.equal(at(1_700_000_000_123.9), "2023-11-14T22:13:20.123Z e");
  assert.equal(at(5), "1970-01-01T00:00:00.005Z e");
  // Second by second, the cached head of the time follows.
  assert.equal(at(1_700_000_001_000), "2023-11-14T22:13:21.000Z e");
  assert.equal(at(1_700_000_000_999), "2023-11-14T22:13:20.999Z e");
  assert.equal(at(-1), "1969-12-31T23:59:59.999Z e");
  assert.equal(at(NaN), "InvalidDate e");
  assert.equal(at(1e20), "InvalidDate e");
  const elapsed = (ts_ms: number) => at(ts_ms, { time: "elapsed", startMs: 1_000_000 });
  assert.equal(elapsed(1_000_000), "+0.000s e");
  assert.equal(elapsed(1_012_345.6), "+12.345s e");
  assert.equal(elapsed(4_723_004), "+3723.004s e");
  assert.equal(elapsed(999_998), "-0.002s e");
  assert.equal(at(5, { time: false }), "e");
  assert.equal(at(5, { colors: true }), "\x1b[2m1970-01-01T00:00:00.005Z\x1b[0m \x1b[36me\x1b[0m");
});

// An Error as the redactor copies it into the fields: name, message, stack, cause.
function errorFields(message: string, stack: string, cause?: unknown): Record<string, unknown> {
  const err: Record<string, unknown> = { name: "Error", message, stack };
  if (cause !== undefined) err.cause = cause;
  return err;
}

Deno.test("formatText() writes nested objects and errors as JSON objects, not quoted strings", () => {
  const err = errorFields("no such file", "Error: no such file\n    at open (a.ts:1:2)", {
    name: "TypeError",
    message: "bad path",
  });
  const line = formatText(
    ev("load_failed", { err, ctx: { path: "/tmp/a b", tries: [1, 2] } }),
    NO_TIME,
  );
  assert.equal(
    line,
    'load_failed err={"name":"Error","message":"no such file",' +
      '"stack":"Error: no such file\\n    at open (a.ts:1:2)",' +
      '"cause":{"name":"TypeError","message":"bad path"}} ctx={"path":"/tmp/a b","tries":[1,2]}',
  );
  const [, pairs] = parseTextLine(line);
  assert.deepEqual(pairs.map(([k, v]) => [k, JSON.parse(v)]), [["err", err], ["ctx", {
    path: "/tmp/a b",
    tries: [1, 2],
  }]]);
});

Deno.test("formatText() lets no field fake the level or a line, whatever its value", () => {
  // A field named level on an info event would read as a real level.
  assert.equal(
    formatText(ev("login", { level: "error", user: "x" }), NO_TIME),
    "login fields.level=error user=x",
  );
  assert.equal(
    formatText(ev("login", { level: "error" }, "warn"), NO_TIME),
    "login level=warn fields.level=error",
  );
  // A value, an event name or a nested string that holds a line break and a
  // whole forged line stays on one line, and a reader that honours quotes
  // and JSON brackets sees no level= but the real one.
  const forged = "x\n2023-11-14T22:13:20.123Z run_end level=fatal status=ok";
  const line = formatText(ev(forged, { v: forged, nested: { m: forged, a: [forged] } }, "warn"));
  assert.equal(line.split(LINE_BREAK).length, 1);
  const [, event, pairs] = parseConsoleLine(line);
  assert.equal(event, forged);
  assert.deepEqual(pairs.map(([k]) => k), ["level", "v", "nested"]);
  assert.equal(pairs[0]![1], "warn");
  assert.deepEqual(JSON.parse(pairs[2]![1]), { m: forged, a: [forged] });
});

Deno.test("formatText() keeps nested JSON values on one line and decodable (fast-check)", () => {
  const value = fc.oneof(
    anyString,
    fc.dictionary(anyString, anyString, { maxKeys: 3 }),
    fc.array(anyString, { maxLength: 3 }),
    fc.dictionary(anyString, fc.array(fc.dictionary(anyString, anyString, { maxKeys: 2 })), {
      maxKeys: 2,
    }),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(anyString, value), { maxLength: 4 }), (pairs) => {
      const fields = Object.fromEntries(pairs);
      const line = formatText(ev("e", fields, "error"));
      assert.equal(line.split(LINE_BREAK).length, 1);
      assert.doesNotMatch(line, RAW_UNSAFE_TEXT);
      const [time, event, parsed] = parseConsoleLine(line);
      assert.match(time, ISO_TIME);
      assert.equal(event, "e");
      assert.deepEqual(parsed[0], ["level", "error"]);
      const got = parsed.slice(1).map(([k, v]) => [
        k,
        typeof fields[k === "fields.level" ? "level" : k] === "string" ? v : JSON.parse(v),
      ]);
      // Compared as plain JSON data: fast-check's objects have no prototype.
      const want = Object.entries(fields).map((
        [k, v],
      ) => [
        k === "level" ? "fields.level" : k,
        typeof v === "string" ? v : JSON.parse(JSON.stringify(v)),
      ]);
      assert.deepEqual(got, want);
    }),
    { numRuns: 300 },
  );
});

Deno.test("ConsoleSink writes one line per event in every format when values try to forge lines", () => {
  const forged = "ok\n2023-11-14T22:13:20.000Z ERROR fake level=fatal\r\u2028── flow_id=x";
  const err = { name: "Error", message: forged, stack: `Error: ${forged}\n    at f (a.ts:1:1)` };
  const events = [
    ev(forged, { level: "fatal", v: forged, err, nested: { m: forged } }),
    ev("next", { v: `"${forged}` }, "warn"),
  ];
  for (const format of ["text", "json", "pretty"] as const) {
    let out = "";
    const sink = new ConsoleSink(
      { format, minSeverity: 1, colors: false, time: "iso", startMs: 0, stream: "stderr" },
      (t) => (out += t),
    );
    sink.observe(events);
    const lines = out.split(LINE_BREAK);
    assert.equal(lines.pop(), "", format);
    assert.doesNotMatch(out.replaceAll("\n", ""), RAW_UNSAFE_TEXT, format);
    if (format === "json") {
      assert.deepEqual(lines.map((l) => JSON.parse(l).level), ["info", "warn"]);
      assert.deepEqual(JSON.parse(lines[0]!).err, err);
      continue;
    }
    // Event lines are the ones that start with a time; the rest (pretty
    // stack lines) start with spaces.
    const eventLines = lines.filter((l) => ISO_TIME.test(l.split(" ")[0]!));
    assert.equal(eventLines.length, 2, format);
    assert.ok(lines.every((l) => eventLines.includes(l) || l.startsWith("    ")), format);
    if (format === "text") {
      assert.equal(lines.length, 2);
      assert.deepEqual(parseConsoleLine(lines[0]!)[2].map(([k]) => k), [
        "fields.level",
        "v",
        "err",
        "nested",
      ]);
    } else {
      assert.match(lines[0]!, /^\S+ INFO {2}"ok\\n/);
      assert.match(lines[0]!, / fields\.level=fatal /);
      assert.match(eventLines[1]!, /^\S+ WARN {2}next /);
    }
  }
});
