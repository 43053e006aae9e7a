/**
 * Canary plants for the redaction tests: where a secret is hidden (under a
 * sensitive key in an object, array, Map, Error or cause, or as a bearer token
 * or card number inside a string), how to build the value carrying it, and
 * every way it is logged. Plants are plain JSON, so a subprocess can rebuild
 * them (tests/e2e/fixtures/redaction_console.ts).
 */
import fc from "fast-check";
import type { Logger } from "../../mod.ts";
import { withContext } from "../../src/front/context.ts";
import { observable } from "../../src/integrations/observable.ts";
import { getStdLogHandler } from "../../src/integrations/std_log.ts";
import { BaseHandler, LogLevels, LogRecord } from "./std_log_stand_in.ts";

export const SENSITIVE = [
  "api_key",
  "apiKey",
  "X-Api-Key",
  "password",
  "db_password",
  "token",
  "access_token",
  "refreshToken",
  "secret",
  "client_secret",
  "authorization",
  "Proxy-Authorization",
  "cookie",
  "Set-Cookie",
  "private_key",
  "session_id",
];

export const KINDS = ["object", "array", "map", "error", "cause", "bearer", "card"] as const;
export type Kind = typeof KINDS[number];

export interface Plant {
  kind: Kind;
  key: string;
  upper: boolean;
  hex: string;
  digits: number[];
  depth: number;
  filler: unknown;
}

function luhnComplete(digits: number[]): string {
  // The check digit that makes digits + check pass the Luhn test.
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits[digits.length - 1 - i]!;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.join("") + String((10 - (sum % 10)) % 10);
}

/**
 * The canary of a plant, the value carrying it (built fresh) and the strings
 * that must never be found (a card number also as written, in groups of 4).
 */
export function build(
  p: Plant,
): { canary: string; value: unknown; text: string; needles: string[] } {
  const key = p.upper ? p.key.toUpperCase() : p.key;
  const canary = p.kind === "card" ? luhnComplete(p.digits) : `c4n4ry${p.hex}`;
  let inner: unknown;
  switch (p.kind) {
    case "object":
      inner = { [key]: canary, other: p.filler };
      break;
    case "array":
      inner = [p.filler, { [key]: canary }, "x"];
      break;
    case "map":
      inner = new Map<unknown, unknown>([["ok", p.filler], [key, canary]]);
      break;
    case "error":
      inner = Object.assign(new Error("request failed"), { [key]: canary, code: "E_X" });
      break;
    case "cause":
      inner = new Error("outer", { cause: { [key]: canary } });
      break;
    case "bearer":
      inner = { note: `sent header Authorization: Bearer ${canary} to upstream` };
      break;
    case "card":
      inner = { note: `paid with ${grouped(canary)} today` };
      break;
  }
  let value = inner;
  for (let i = 0; i < p.depth; i++) value = { level: i, nested: value };
  const needles = p.kind === "card" ? [canary, grouped(canary)] : [canary];
  // The secret in free text (a message, a key), where only a value pattern finds it.
  const text = p.kind === "card"
    ? `paid with ${grouped(canary)} today`
    : `sent Authorization: Bearer ${canary} upstream`;
  return { canary, value, text, needles };
}

function grouped(digits: string): string {
  return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
}

export const plantArb: fc.Arbitrary<Plant> = fc.record({
  kind: fc.constantFrom(...KINDS),
  key: fc.constantFrom(...SENSITIVE),
  upper: fc.boolean(),
  hex: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) =>
    Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")
  ),
  digits: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 15, maxLength: 15 }),
  depth: fc.integer({ min: 0, max: 4 }),
  filler: fc.jsonValue({ maxDepth: 2 }),
});

/** Events {@linkcode logEverywhere} writes per plant. */
export const EVENTS_PER_PLANT = 11;

/**
 * Logs the plant's secret in fields, bindings, context, captured I/O, an
 * error, a message (directly and through an `@std/log` handler) and a key.
 */
export function logEverywhere(
  log: Logger,
  flowId: string,
  p: Plant,
  value: unknown,
  canary: string,
  text: string,
) {
  const key = p.key;
  const flow = log.child({ flow_id: flowId });
  // As the message (the event name) and in a string field; as an error event
  // in a span, the message is also the span's status message (`show`, timeline).
  flow.error(text, { span_id: "planted", note: text });
  // As an object key and a Map key.
  flow.info("keyed", { [text]: 1, seen: new Map([[text, true]]) });
  // Through @std/log: the message and its arguments.
  const Handler = getStdLogHandler(BaseHandler, flow);
  const handler = new Handler("DEBUG");
  handler.handle(
    new LogRecord({ msg: text, args: [{ value }], level: LogLevels.INFO, loggerName: "app" }),
  );
  handler.handle(
    new LogRecord({
      msg: "with args",
      args: [value, text],
      level: LogLevels.WARN,
      loggerName: "app",
    }),
  );
  // A message @std/log formatted itself (BaseHandler.log()).
  handler.log(text);
  // In the fields of an event.
  log.child({ flow_id: flowId }).warn("planted", { payload: value });
  // In child bindings.
  log.child({ flow_id: flowId, [key]: canary }).info("bound");
  // In withContext() bindings.
  withContext({ flow_id: flowId, [key]: canary }, () => log.info("in_context", { value }));
  // In captured inputs and outputs of a node.
  const node = observable((input: unknown) => ({ echoed: input }), {
    logger: log.child({ flow_id: flowId }),
    node: "echo",
    capture: true,
  });
  node(value);
  // As an error's own property, logged as the fields themselves.
  log.child({ flow_id: flowId }).error("thrown", Object.assign(new Error("x"), { [key]: canary }));
}

const utf8 = new TextEncoder();

function bytesInclude(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * The canary search: the first needle found in `haystack` (a string, raw
 * bytes, or any structured value such as an IndexedDB record, searched in its
 * strings, keys and byte arrays), or null when none is there.
 */
export function findCanary(haystack: unknown, needles: readonly string[]): string | null {
  const seen = new Set<unknown>();
  const strings: string[] = [];
  const bytes: Uint8Array[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") strings.push(v);
    else if (v instanceof Uint8Array) bytes.push(v);
    else if (v instanceof ArrayBuffer) bytes.push(new Uint8Array(v));
    else if (ArrayBuffer.isView(v)) {
      bytes.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    } else if (v !== null && typeof v === "object" && !seen.has(v)) {
      seen.add(v);
      if (v instanceof Map) { for (const [k, x] of v) (walk(k), walk(x)); }
      else for (const [k, x] of Object.entries(v)) (strings.push(k), walk(x));
    }
  };
  walk(haystack);
  for (const needle of needles) {
    if (strings.some((s) => s.includes(needle))) return needle;
    const b = utf8.encode(needle);
    if (bytes.some((h) => bytesInclude(h, b))) return needle;
  }
  return null;
}

/** Every file under `dir`, recursively, as bytes. */
export async function filesUnder(dir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else if (entry.isFile) out.push(await Deno.readFile(path));
  }
  return out;
}
