/**
 * Every JS string round-trips through the public API (issue 12, item 5):
 * event names, keys, values and child bindings, lone surrogates included,
 * go through the ring, the worker, the store and back out of `query()` and
 * `getFlowLog()` as the very same strings, in every transport, and come out
 * of the OTLP JSON export as `\uXXXX` escapes that parse back to them.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createLogger, type LogEvent } from "../../mod.ts";
import { toOtlpLogs } from "../../src/export/otlp.ts";
import { encodeOtlpLogs } from "../../src/export/otlp_json.ts";
import { anyString } from "../support/any_string.ts";

const FLOW = "strings";

/** One logged call: what goes in, to compare with what comes out. */
interface Call {
  name: string;
  key: string;
  value: string;
  bound: string;
}

const call: fc.Arbitrary<Call> = fc.record({
  name: anyString(70),
  key: anyString(70),
  value: anyString(70),
  bound: anyString(70),
});

/** Lone surrogates at the start, the end, and across the encoder's fast-path and cache limits. */
function edgeCalls(): Call[] {
  const calls: Call[] = [];
  for (const n of [0, 1, 31, 32, 33, 47, 48, 49, 63, 64, 65, 200]) {
    const a = "a".repeat(n);
    for (const lone of ["\ud800", "\udc00"]) {
      calls.push({ name: a + lone, key: lone + a, value: a + lone, bound: lone + a + lone });
    }
  }
  return calls;
}

/** Logs each call through a child logger whose bindings carry `bound`, then reads everything back. */
async function roundTrip(
  transport: "inline" | "sab" | "message",
  calls: readonly Call[],
): Promise<{ queried: LogEvent[]; flow: LogEvent[] }> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-strings-" });
  const log = createLogger({ dir, transport, exitHooks: false, redact: false });
  try {
    for (const c of calls) {
      log.child({ flow_id: FLOW, bound: c.bound }).info(c.name, { [c.key]: c.value });
    }
    await log.flush();
    const queried: LogEvent[] = [];
    let cursor: string | null = null;
    do {
      const page = await log.query(cursor === null ? { flow_id: FLOW } : { flow_id: FLOW, cursor });
      queried.push(...page.events);
      cursor = page.cursor;
    } while (cursor !== null);
    const flow = (await log.getFlowLog(FLOW)).events;
    return { queried, flow };
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function assertSame(events: readonly LogEvent[], calls: readonly Call[]): void {
  assert.equal(events.length, calls.length);
  events.forEach((event, i) => {
    const c = calls[i]!;
    assert.equal(event.event, c.name, `event name of call ${i}`);
    // A call field of the same name as a binding replaces it.
    assert.deepEqual({ ...event.fields }, { flow_id: FLOW, bound: c.bound, [c.key]: c.value });
  });
}

for (const transport of ["inline", "sab", "message"] as const) {
  Deno.test(`query() and getFlowLog() give back every string as logged, lone surrogates included (${transport})`, async () => {
    const calls = [...edgeCalls(), ...fc.sample(call, { numRuns: 150, seed: 12 })];
    const { queried, flow } = await roundTrip(transport, calls);
    assertSame(queried, calls);
    assertSame(flow, calls);
  });
}

Deno.test("createLogger() → flush() → query() round-trips any string (fast-check)", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 12 }), async (calls) => {
      const { queried, flow } = await roundTrip("inline", calls);
      assertSame(queried, calls);
      assertSame(flow, calls);
    }),
    { numRuns: 25 },
  );
});

Deno.test("OTLP JSON export escapes lone surrogates as \\uXXXX that parse back to the strings", async () => {
  const calls = [...edgeCalls(), ...fc.sample(call, { numRuns: 50, seed: 5 })];
  const { queried } = await roundTrip("inline", calls);
  const reference = new TextEncoder().encode(JSON.stringify(toOtlpLogs(queried)));
  assert.deepEqual(
    encodeOtlpLogs(queried),
    reference,
    "the uplink's fast path writes the same bytes",
  );
  // Valid UTF-8 (a fatal decoder accepts it), and the strings parse back exactly.
  const text = new TextDecoder("utf-8", { fatal: true }).decode(reference);
  const records = JSON.parse(text).resourceLogs[0].scopeLogs[0].logRecords as {
    body: { stringValue: string };
    attributes: { key: string; value: { stringValue?: string } }[];
  }[];
  assert.equal(records.length, calls.length);
  records.forEach((record, i) => {
    const c = calls[i]!;
    assert.equal(record.body.stringValue, c.name);
    const attributes = new Map(record.attributes.map((a) => [a.key, a.value.stringValue]));
    assert.equal(attributes.get(c.key), c.value, `attribute of call ${i}`);
  });
});
