/**
 * A store that cannot open (a file where the directory should be, or a
 * directory the process may not write): one line on stderr per logger that
 * says which path, why and what to do; the events counted as dropped, never
 * pending; `stats().error` set and `flush()` rejecting with the same message.
 */
import assert from "node:assert/strict";
import type { LoggerStats } from "../../mod.ts";

const fixture = new URL("./fixtures/dead_store.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stderrLines: string[];
  stats: LoggerStats;
  rejected: string | null;
}

async function run(dir: string, mode: "flush" | "end" | "exit", allowWrite: string): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", `--allow-write=${allowWrite}`, "--allow-env", fixture, dir, mode],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A hang fails the test instead of blocking the suite.
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const out = await child.output();
  clearTimeout(killer);
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  const stats = stdout.split("\n").find((l) => l.startsWith("stats "));
  assert.ok(stats !== undefined, `no stats printed; stdout: ${stdout}; stderr: ${stderr}`);
  const rejected = stdout.split("\n").find((l) => l.startsWith("flush rejected "));
  return {
    code: out.code,
    stderrLines: stderr.split("\n").filter((l) => l !== ""),
    stats: JSON.parse(stats.slice("stats ".length)),
    rejected: rejected === undefined ? null : JSON.parse(rejected.slice("flush rejected ".length)),
  };
}

function assertDeadStore(r: Run, dir: string, reason: RegExp): void {
  assert.equal(r.code, 0, r.stderrLines.join("\n"));
  assert.equal(r.stderrLines.length, 1, `stderr: ${r.stderrLines.join("\n")}`);
  const line = r.stderrLines[0]!;
  assert.ok(line.includes(`"${dir}"`), line);
  assert.match(line, reason);
  assert.match(line, /drops \(and counts\) every event: give option dir a writable directory$/);
  assert.equal(r.stats.worker, "failed");
  assert.equal(r.stats.error, line);
  assert.equal(r.stats.emitted, 2);
  assert.equal(r.stats.dropped, 2);
  assert.equal(r.stats.pending, 0);
  assert.equal(r.stats.persisted, 0);
}

for (const mode of ["flush", "end", "exit"] as const) {
  Deno.test(`createLogger({ dir: a file }): one stderr line, events dropped, error set (${mode})`, async () => {
    const file = await Deno.makeTempFile({ prefix: "flightlog-not-a-dir-" });
    try {
      const r = await run(file, mode, "/tmp");
      assertDeadStore(r, file, /File exists|Not a directory/);
      if (mode === "flush") assert.equal(r.rejected, r.stats.error);
    } finally {
      await Deno.remove(file);
    }
  });
}

Deno.test("createLogger({ dir: a directory it may not write }): the same line, with the reason", async () => {
  const parent = await Deno.makeTempDir({ prefix: "flightlog-readonly-" });
  const other = await Deno.makeTempDir({ prefix: "flightlog-writable-" });
  try {
    // Write permission elsewhere only: refused even when running as root.
    const r = await run(`${parent}/store`, "flush", other);
    assertDeadStore(r, `${parent}/store`, /write access/);
    assert.equal(r.rejected, r.stats.error);
  } finally {
    await Deno.remove(parent, { recursive: true });
    await Deno.remove(other, { recursive: true });
  }
});
