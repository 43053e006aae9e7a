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
import { createLogger } from "../../mod.ts";
import { build, EVENTS_PER_PLANT, logEverywhere, plantArb } from "../support/redaction_plants.ts";

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
        const { canary, value, text, needles } = build(p);
        canaries.push(...needles);
        const before = Deno.inspect(value, { depth: 20, sorted: true });
        logEverywhere(log, flowId, p, value, canary, text);
        assert.equal(Deno.inspect(value, { depth: 20, sorted: true }), before, "input unchanged");
        await log.flush();
        const page = await log.query({ flow_id: flowId, limit: 100 });
        assert.equal(page.events.length, EVENTS_PER_PLANT, "every event persisted");
        const found = JSON.stringify(page.events);
        const flow = JSON.stringify(await log.getFlowLog(flowId));
        for (const needle of needles) {
          assert.equal(found.includes(needle), false, `canary in query results: ${found}`);
          assert.equal(flow.includes(needle), false, "canary in the flow log");
        }
        assert.ok(found.includes("[REDACTED]"));
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

for (const format of ["text", "json"]) {
  Deno.test(`redaction leaves zero canary bytes in console ${format} output`, async () => {
    const plants = fc.sample(plantArb, { numRuns: 40, seed: format === "text" ? 1 : 2 });
    const dir = await Deno.makeTempDir({ prefix: "flightlog-redaction-console-" });
    try {
      const fixture = new URL("./fixtures/redaction_console.ts", import.meta.url).pathname;
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-write", "--allow-env", fixture, dir],
        env: { FLIGHTLOG_FORMAT: format },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(JSON.stringify(plants)));
      await w.close();
      const out = await child.output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      const lines = stderr.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, plants.length * EVENTS_PER_PLANT, "one line per event");
      if (format === "json") { for (const line of lines) JSON.parse(line); }
      assert.ok(stderr.includes("[REDACTED]"));
      for (const p of plants) {
        for (const needle of build(p).needles) {
          assert.equal(stderr.includes(needle), false, `${needle} (${p.kind}) on the console`);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
