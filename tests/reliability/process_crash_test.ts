/**
 * Matrix item 1, process crash: a logging subprocess is killed with SIGKILL
 * at random points while it logs and flushes. After each kill the next
 * process opens the same store (the restart); at the end every event
 * acknowledged by `flush()` is there, each child's events form an unbroken
 * prefix of its numbers (the writer never drops), and nothing else is read.
 *
 * @module
 */
import assert from "node:assert/strict";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { allPages } from "../support/query_pages.ts";

const writer = new URL("./fixtures/crash_writer.ts", import.meta.url).pathname;

/** Runs one writer and kills it `delayMs` after its first acknowledgement; returns its last ack. */
async function runAndKill(dir: string, run: string, delayMs: number): Promise<number[]> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", writer, dir, run],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let acked = [0, 0, 0];
  let killer: ReturnType<typeof setTimeout> | undefined;
  // A writer that never acknowledges fails the test instead of hanging it.
  const guard = setTimeout(() => child.kill("SIGKILL"), 30_000);
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      // A line is whole only once its newline arrived: the ack it states held before.
      if (line.startsWith("ack ")) acked = line.slice(4).split(" ").map(Number);
      killer ??= setTimeout(() => child.kill("SIGKILL"), delayMs);
    }
  }
  const status = await child.status;
  clearTimeout(killer);
  clearTimeout(guard);
  assert.equal(status.signal, "SIGKILL", `run ${run} ended by itself (code ${status.code})`);
  assert.ok(acked.some((n) => n > 0), `run ${run} acknowledged nothing`);
  return acked;
}

/** Result of {@linkcode killChain}. */
export interface KillChainResult {
  kills: number;
  acknowledged: number;
  recovered: number;
  damaged: number;
}

/**
 * Kills `kills` writers in turn on one store, then checks the store. The
 * kill delays come from `seed`.
 */
export async function killChain(
  dir: string,
  kills: number,
  seed: number,
): Promise<KillChainResult> {
  let rnd = seed >>> 0;
  const random = () => (rnd = (Math.imul(rnd, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const acks = new Map<string, number[]>();
  for (let k = 0; k < kills; k++) {
    const run = `s${seed}-k${k}`;
    acks.set(run, await runAndKill(dir, run, Math.floor(random() * 150)));
  }
  const store = SegmentStore.open(dir);
  try {
    const events = allPages((filter) => store.query(filter), { limit: 100_000 });
    const seen = new Map<string, number[][]>();
    const keys = new Set<string>();
    for (const e of events) {
      if (e.event !== "tick") continue;
      const run = String(e.fields.run);
      const child = Number(e.fields.child);
      const n = e.fields.n;
      assert.ok(acks.has(run), `an event of an unknown run ${run}`);
      assert.ok(Number.isInteger(n) && child >= 0 && child < 3, "a malformed event was read");
      const key = `${e.producer}/${e.seq}`;
      assert.ok(!keys.has(key), `event ${key} read twice`);
      keys.add(key);
      const perChild = seen.get(run) ?? [[], [], []];
      perChild[child]!.push(n as number);
      seen.set(run, perChild);
    }
    let acknowledged = 0;
    let recovered = 0;
    for (const [run, acked] of acks) {
      const perChild = seen.get(run) ?? [[], [], []];
      for (let c = 0; c < 3; c++) {
        const ns = perChild[c]!.sort((a, b) => a - b);
        // An unbroken prefix 0, 1, …, m-1 (the writer never drops) …
        ns.forEach((n, i) => assert.equal(n, i, `run ${run} child ${c}: hole before ${n}`));
        // … that contains everything acknowledged.
        assert.ok(
          ns.length >= acked[c]!,
          `run ${run} child ${c}: ${ns.length} < acked ${acked[c]}`,
        );
        acknowledged += acked[c]!;
        recovered += ns.length;
      }
    }
    // Torn tails cut by the kills are damage the store counted and skipped, never data.
    const damaged = Object.values(store.stats().damage).reduce((sum, v) => sum + v, 0);
    return { kills, acknowledged, recovered, damaged };
  } finally {
    store.close();
  }
}

Deno.test("a writer killed with SIGKILL at 30 random points loses no acknowledged event and surfaces no corrupt record", async () => {
  const dirs = await Promise.all(
    [0, 1, 2].map(() => Deno.makeTempDir({ prefix: "flightlog_kill_" })),
  );
  try {
    // Three stores, ten kills each, run side by side.
    const results = await Promise.all(dirs.map((dir, i) => killChain(dir, 10, 100 + i)));
    const kills = results.reduce((s, r) => s + r.kills, 0);
    assert.equal(kills, 30);
    for (const r of results) assert.ok(r.recovered >= r.acknowledged && r.acknowledged > 0);
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});
