/**
 * The codec (`src/wire/codec.ts`) on its own: the cost of encoding one typical
 * event, the short-string fast path that `Encoder` takes instead of
 * `TextEncoder.encodeInto` (group `"string"`, cited by `src/wire/codec.ts`), and
 * the worker's `Decoder.decode` of the same event with the seven ids passed as
 * call fields and bound by a child logger, i.e. defined once and referred to by
 * id (group `"decode"`, cited by `src/wire/codec.ts`), and the strings that take
 * `Encoder#text` instead of the ASCII fast path: long, non-ASCII, and with a
 * lone surrogate (group `"text"`, cited by `src/wire/codec.ts`).
 *
 * Run with `deno task bench` (or `deno bench bench/codec_bench.ts`).
 *
 * @module
 */
import { Decoder, Encoder } from "../src/wire/codec.ts";
import { BINDINGS, callFields, EVENT } from "./_workload.ts";

const SEVERITY_INFO = 9;
const encoder = new Encoder();
const BINDINGS_ID = 1;
let seq = 0;

Deno.bench({
  group: "encode",
  name: "Encoder.encode, bindings by id + 2 call fields",
  baseline: true,
  fn() {
    seq++;
    encoder.encode(seq, 1795000000000 + seq, SEVERITY_INFO, 0, EVENT, {
      duration_ms: 12.5 + (seq & 1023),
      status: "ok",
    }, BINDINGS_ID);
  },
});

Deno.bench({
  group: "encode",
  name: "Encoder.encode, event name only",
  fn() {
    seq++;
    encoder.encode(seq, 1795000000000 + seq, SEVERITY_INFO, 0, EVENT, {});
  },
});

Deno.bench({
  group: "encode",
  name: "Encoder.encodeBindings, 7 ids (once per child logger and ring lap)",
  fn() {
    encoder.encodeBindings(BINDINGS, BINDINGS_ID);
  },
});

// A reference point, not a competitor: what a JSON logger does per call for the
// same event (pino serializes its bindings once too, so only the call part is
// stringified per call).
const boundJson = JSON.stringify(BINDINGS).slice(1, -1);
let lineBytes = 0;
Deno.bench({
  group: "encode",
  name: "JSON.stringify of the call fields + concat (pino-style line)",
  fn() {
    seq++;
    const line = `{"level":30,"time":${1795000000000 + seq},${boundJson},${
      JSON.stringify(callFields(seq)).slice(1, -1)
    },"msg":"${EVENT}"}\n`;
    lineBytes += line.length;
  },
});

// --- "string": the short-ASCII fast path of Encoder#str ---------------------

// The strings of the typical event: every key and value of the bindings, the
// event name and the call fields (2 to 32 characters, all ASCII).
const SHORT = [
  EVENT,
  ...Object.entries(BINDINGS).flat(),
  "duration_ms",
  "status",
  "ok",
];
const SHORT_CHARS = SHORT.reduce((n, s) => n + s.length, 0);
const MEDIUM = ["m".repeat(64), "n".repeat(64)];
const LONG = ["x".repeat(200), "y".repeat(240)];
const out = new Uint8Array(64 * 1024);
const textEncoder = new TextEncoder();

// The same loop as Encoder#str: bail out on the first non-ASCII code unit.
function asciiLoop(s: string, buf: Uint8Array, at: number): number {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return -1;
    buf[at + i] = c;
  }
  return len;
}

function encodeAllLoop(strings: string[]): number {
  let at = 0;
  for (const s of strings) at += asciiLoop(s, out, at) + 2;
  return at;
}

// As Encoder#text calls it: a fresh subarray view per string.
function encodeAllInto(strings: string[]): number {
  let at = 0;
  for (const s of strings) at += textEncoder.encodeInto(s, out.subarray(at + 5)).written + 5;
  return at;
}

// The view allocation taken out, to show which part of the cost it is.
const tail = out.subarray(5);
function encodeAllIntoFixedView(strings: string[]): number {
  let at = 0;
  for (const s of strings) at += textEncoder.encodeInto(s, tail).written + 5;
  return at;
}

Deno.bench({
  group: "string",
  name: `TextEncoder.encodeInto + subarray, ${SHORT.length} strings (${SHORT_CHARS} chars)`,
  baseline: true,
  fn() {
    encodeAllInto(SHORT);
  },
});

Deno.bench({
  group: "string",
  name: `TextEncoder.encodeInto, one view, ${SHORT.length} strings`,
  fn() {
    encodeAllIntoFixedView(SHORT);
  },
});

Deno.bench({
  group: "string",
  name: `ASCII byte loop, ${SHORT.length} strings (Encoder#str)`,
  fn() {
    encodeAllLoop(SHORT);
  },
});

// Encoder#str takes the loop for ASCII strings of up to 48 characters: does
// encodeInto overtake it about there?
const SIZED: [string, string[]][] = [
  ["32 chars", ["a".repeat(32), "b".repeat(32)]],
  ["48 chars", ["c".repeat(48), "d".repeat(48)]],
  ["64 chars", MEDIUM],
  ["200-240 chars", LONG],
];
for (const [label, strings] of SIZED) {
  Deno.bench({
    group: `string (${label})`,
    name: `TextEncoder.encodeInto + subarray, ${strings.length} strings of ${label}`,
    baseline: true,
    fn() {
      encodeAllInto(strings);
    },
  });
  Deno.bench({
    group: `string (${label})`,
    name: `ASCII byte loop, ${strings.length} strings of ${label}`,
    fn() {
      encodeAllLoop(strings);
    },
  });
}

// --- "text": strings past the ASCII fast path (Encoder#text) ---------------

// Each event carries one such string as its only call field: a long ASCII
// one (encodeInto, then one comparison rules out a lone surrogate), a short
// non-ASCII one (the putShortText loop, which tags it itself), a long
// non-ASCII one (encodeInto, then isWellFormed()), and one with a lone
// surrogate (encodeInto, then rewritten as WTF-8).
const TEXTS: [string, string][] = [
  ["200 ASCII chars", "t".repeat(200)],
  ["40 non-ASCII chars", "héllo wörld — ünïcode tëxt ✓ ça va ".padEnd(40, "é")],
  ["2,000 non-ASCII chars", "ünïcode ✓ ".repeat(200)],
  ["200 chars, one lone surrogate", "t".repeat(199) + "\ud800"],
];
for (const [label, text] of TEXTS) {
  const fields = { text };
  Deno.bench({
    group: "text",
    name: `Encoder.encode, one ${label}`,
    baseline: label === TEXTS[0]![0],
    fn() {
      seq++;
      encoder.encode(seq, 1795000000000 + seq, SEVERITY_INFO, 0, EVENT, fields);
    },
  });
}

// --- "decode": the worker's Decoder, ids as call fields or bound by id -------

// Records as the worker finds them after RingConsumer.drain: the typical event
// (7 ids, 2 call fields) laid end to end, 4-byte aligned, each with its own
// seq, time and duration. Encoded once with the ids as call fields (decoded in
// every record) and once by a child logger (decoded once, from the definition).
const RECORDS = 64;
function recordsWith(bound: boolean): { bytes: Uint8Array; at: number[]; end: number[] } {
  const enc = new Encoder();
  const bytes = new Uint8Array(RECORDS * 512);
  const at: number[] = [];
  const end: number[] = [];
  let pos = 0;
  const append = (len: number) => {
    bytes.set(enc.buf.subarray(0, len), pos);
    at.push(pos + 4); // the Decoder takes a record without its length word
    end.push(pos + len);
    pos = (pos + len + 3) & ~3;
  };
  for (let i = 0; i < RECORDS; i++) {
    const fields = bound ? callFields(i) : { ...BINDINGS, ...callFields(i) };
    append(enc.encode(i + 1, 1795000000000 + i, SEVERITY_INFO, 0, EVENT, fields, bound ? 1 : 0));
  }
  return { bytes, at, end };
}

function decodeCase(name: string, bound: boolean, baseline: boolean): void {
  const { bytes, at, end } = recordsWith(bound);
  const decoder = new Decoder();
  const def = new Encoder().encodeBindings(BINDINGS, 1);
  decoder.define(def, 4, def.length);
  // The bench must decode what was encoded; checked once, before timing.
  const first = decoder.decode(bytes, at[1]!, end[1]!, "p.0");
  const again = decoder.decode(bytes, at[1]!, end[1]!, "p.0");
  const want = JSON.stringify({ ...BINDINGS, ...callFields(1) });
  if (JSON.stringify(first.fields) !== want || JSON.stringify(again.fields) !== want) {
    throw new Error(`decode ${name}: fields differ from what was encoded`);
  }
  let i = 0;
  let sink = 0;
  Deno.bench({
    group: "decode",
    name,
    baseline,
    fn() {
      const k = i++ & (RECORDS - 1);
      sink += decoder.decode(bytes, at[k]!, end[k]!, "p.0").seq;
    },
  });
}

decodeCase("Decoder.decode, 7 ids as call fields (decoded every time)", false, true);
decodeCase("Decoder.decode, 7 ids bound by a child logger (decoded once)", true, false);
