import assert from "node:assert/strict";
import fc from "fast-check";
import { formatJson, formatText, quoteText } from "../../src/sinks/console_format.ts";
import { ConsoleSink } from "../../src/sinks/console_sink.ts";
import { BoundLogEvent, type LogEvent } from "../../src/event.ts";
import { parseTextLine } from "../support/text_line.ts";
import { makeEvent } from "../support/log_event.ts";

// Everything a terminal or viewer may take as a line break.
const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/;
// Raw characters that move the cursor, recolor or reorder (built from text:
// control characters in a regex literal are what the linter forbids).
const RAW_UNSAFE_TEXT = new RegExp(
  String.raw`[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]`,
);
const RAW_UNSAFE_JSON = new RegExp(
  String.raw`[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]`,
);

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
        const sink = new ConsoleSink(
          { format: "text", minSeverity: 1, colors: false, stream: "stderr" },
          (t) => (out += t),
        );
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
        const [event, parsed] = parseTextLine(formatText(ev(name, fields)));
        assert.equal(event, name);
        const expected = Object.entries(fields).map(([k, v]) => [k, v]);
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
  const line = formatText(ev("step_end", {
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
  }));
  assert.equal(
    line,
    "step_end n=12.5 z=-0 inf=-Infinity nan=NaN ok=true none=null u=undefined " +
      'big=12345678901234567890 at=1970-01-01T00:00:00.000Z obj={"a":1,"b":[true,"x"]} ' +
      'spaced="{\\"msg\\":\\"two words\\"}"',
  );
});

Deno.test("formatText() adds level= for levels other than info and colors only when asked", () => {
  assert.equal(formatText(ev("slow", { ms: 3 }, "warn")), "slow level=warn ms=3");
  assert.equal(formatText(ev("ok", {})), "ok");
  const colored = formatText(ev("boom", { code: "E1" }, "error"), true);
  assert.equal(colored, "\x1b[31mboom\x1b[0m \x1b[2mlevel=\x1b[0merror \x1b[2mcode=\x1b[0mE1");
  // A value's own escape sequences stay escaped even with colors on.
  assert.ok(formatText(ev("x", { v: "\x1b[2J" }), true).includes("\\u001b[2J"));
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
  const key = fc.oneof(fc.constantFrom("flow_id", "run_id", "status", "event"), anyString);
  const pairs = fc.array(fc.tuple(key, fc.oneof(anyString, fc.integer())), { maxLength: 5 });
  fc.assert(
    fc.property(pairs, pairs, pairs, (b, c1, c2) => {
      const bindings = Object.fromEntries(b);
      for (const c of [c1, c2]) { // the second call reuses the cached bindings text
        const call = Object.fromEntries(c);
        const bound = new BoundLogEvent(0, "warn", 13, "e", "p.0", 1, bindings, call);
        const plain = { ...ev("e", { ...bindings, ...call }, "warn") };
        assert.equal(formatText(bound), formatText(plain));
        assert.equal(formatText(bound, true), formatText(plain, true));
        assert.equal(formatJson(bound), formatJson({ ...plain, ts_ms: 0 }));
      }
    }),
    { numRuns: 300 },
  );
});
