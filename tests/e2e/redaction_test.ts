/**
 * Property-based redaction: canary secrets planted under sensitive keys in
 * nested objects, arrays, Maps, Error properties and causes, child bindings,
 * withContext() bindings and observable() captured inputs and outputs, and as
 * bearer tokens and card numbers inside ordinary strings. Not one canary
 * byte may reach the segment files or query results, and the caller's values
 * must be unchanged.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createLogger, type Logger } from "../../mod.ts";
import { withContext } from "../../src/context.ts";
import { observable } from "../../src/observable.ts";

const SENSITIVE = [
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

const KINDS = ["object", "array", "map", "error", "cause", "bearer", "card"] as const;
type Kind = typeof KINDS[number];

interface Plant {
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

/** The canary of a plant and the value carrying it (built fresh). */
function build(p: Plant): { canary: string; value: unknown } {
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
      inner = { note: `paid with ${canary.replace(/(\d{4})(?=\d)/g, "$1 ")} today` };
      break;
  }
  let value = inner;
  for (let i = 0; i < p.depth; i++) value = { level: i, nested: value };
  return { canary, value };
}

const plantArb: fc.Arbitrary<Plant> = fc.record({
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

async function filesUnder(dir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) out.push(...await filesUnder(path));
    else if (entry.isFile) out.push(await Deno.readFile(path));
  }
  return out;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function logEverywhere(log: Logger, flowId: string, p: Plant, value: unknown, canary: string) {
  const key = p.key;
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

Deno.test("redaction leaves zero canary bytes in segment files and query results, inputs unchanged", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-redaction-" });
  const log = createLogger({
    dir,
    transport: "inline",
    exitHooks: false,
    level: "debug",
    redact: { patterns: true },
  });
  const canaries: string[] = [];
  let run = 0;
  try {
    await fc.assert(
      fc.asyncProperty(plantArb, async (p) => {
        const flowId = `redaction-${run++}`;
        const { canary, value } = build(p);
        canaries.push(canary);
        const before = Deno.inspect(value, { depth: 20, sorted: true });
        logEverywhere(log, flowId, p, value, canary);
        assert.equal(Deno.inspect(value, { depth: 20, sorted: true }), before, "input unchanged");
        await log.flush();
        const page = await log.query({ flow_id: flowId, limit: 100 });
        assert.equal(page.events.length, 6, "every event persisted");
        const text = JSON.stringify(page.events);
        assert.equal(text.includes(canary), false, `canary in query results: ${text}`);
        assert.ok(text.includes("[REDACTED]"));
        const flow = JSON.stringify(await log.getFlowLog(flowId));
        assert.equal(flow.includes(canary), false, "canary in the flow log");
      }),
      { numRuns: 60 },
    );
    await log.flush({ durable: true });
  } finally {
    await log.close();
  }
  try {
    const files = await filesUnder(dir);
    assert.ok(files.length > 0 && files.some((f) => f.length > 1000), "segment files written");
    const enc = new TextEncoder();
    for (const canary of canaries) {
      const needle = enc.encode(canary);
      for (const file of files) assert.equal(contains(file, needle), false, `${canary} on disk`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the canary search finds an unredacted secret (control)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-redaction-control-" });
  const log = createLogger({ dir, transport: "inline", exitHooks: false, redact: false });
  try {
    log.child({ flow_id: "control" }).info("planted", { api_key: "c4n4ry0123456789abcdef" });
    await log.flush({ durable: true });
    const text = JSON.stringify((await log.query({ flow_id: "control" })).events);
    assert.ok(text.includes("c4n4ry0123456789abcdef"));
  } finally {
    await log.close();
  }
  try {
    const needle = new TextEncoder().encode("c4n4ry0123456789abcdef");
    assert.ok((await filesUnder(dir)).some((f) => contains(f, needle)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
