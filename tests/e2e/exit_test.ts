/**
 * Each exit path of a Deno process that logs: end of script, Deno.exit(),
 * an uncaught exception, an unhandled rejection, SIGTERM and SIGINT. The
 * process must exit by itself, and every event logged before must be on disk.
 */
import assert from "node:assert/strict";
import { createLogger, type LogEvent, type Logger, type QueryPage } from "../../mod.ts";

const fixture = new URL("./fixtures/exit_paths.ts", import.meta.url).pathname;
const COUNT = 5000;

/** Every exit path of the fixture, and the exit code each must keep. */
const EXIT_MODES = ["end", "exit", "throw", "reject", "sigterm", "sigint"];
const EXIT_CODES: Record<string, number> = {
  end: 0,
  exit: 3,
  throw: 1,
  reject: 1,
  sigterm: 143,
  sigint: 130,
};

/** The fixture as a child process with `args`, its output piped. */
function fixtureCommand(...args: string[]): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", fixture, ...args],
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs the fixture to its end (signals sent once it says "ready"). */
async function runChild(
  dir: string,
  mode: string,
  count: number,
  transport: string,
  overflow = false,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cmd = fixtureCommand(dir, mode, String(count), transport, overflow ? "overflow" : "");
  const child = cmd.spawn();
  // A hang fails the test instead of blocking the suite.
  const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  let seen = "";
  if (mode === "sigterm" || mode === "sigint") {
    const reader = child.stdout.getReader();
    while (!seen.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    child.kill(mode === "sigterm" ? "SIGTERM" : "SIGINT");
  }
  const out = await child.output();
  clearTimeout(killer);
  return {
    code: out.code,
    stdout: seen + new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

async function runFixture(
  mode: string,
  transport = "auto",
): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: `flightlog-exit-${mode}-` });
  const out = await runChild(dir, mode, COUNT, transport);
  try {
    const log = createLogger({ dir, transport: "inline", exitHooks: false });
    const trace = await log.getFlowLog("exit-flow");
    await log.close();
    const seen = trace.events.filter((e) => e.event === "tick").map((e) => e.fields.i);
    assert.equal(seen.length, COUNT, `mode ${mode}: ${seen.length} of ${COUNT} events on disk`);
    assert.deepEqual(seen, Array.from({ length: COUNT }, (_, i) => i));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return out;
}

/** How each way of ending the child ends it; the events are checked by runFixture(). */
const ENDINGS: { name: string; mode: string; code: number; stderr?: RegExp }[] = [
  { name: "end of script: exits by itself with every event on disk", mode: "end", code: 0 },
  { name: "Deno.exit(): every event on disk, exit code kept", mode: "exit", code: 3 },
  {
    name: "uncaught exception: every event on disk, still fails",
    mode: "throw",
    code: 1,
    stderr: /uncaught in a timer/,
  },
  {
    name: "unhandled rejection: every event on disk, still fails",
    mode: "reject",
    code: 1,
    stderr: /unhandled rejection/,
  },
  { name: "SIGTERM: every event on disk, exit code 143", mode: "sigterm", code: 143 },
  { name: "SIGINT: every event on disk, exit code 130", mode: "sigint", code: 130 },
];

for (const { name, mode, code, stderr } of ENDINGS) {
  Deno.test(name, async () => {
    const r = await runFixture(mode);
    assert.equal(r.code, code, r.stderr);
    if (stderr !== undefined) assert.match(r.stderr, stderr);
  });
}

Deno.test("inline transport: end of script and Deno.exit() keep every event", async () => {
  assert.equal((await runFixture("end", "inline")).code, 0);
  assert.equal((await runFixture("exit", "inline")).code, 3);
});

/** Every stored event named `event`, page by page. */
async function allEvents(log: Logger, event: string): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  let cursor: string | null = null;
  do {
    const page: QueryPage = await log.query({
      event,
      limit: 100_000,
      ...(cursor === null ? {} : { cursor }),
    });
    out.push(...page.events);
    cursor = page.cursor;
  } while (cursor !== null);
  return out;
}

/** Events stored by the fixture and the sum of its `log.dropped` counts. */
async function storedAndDropped(dir: string): Promise<{ ticks: number[]; dropped: number }> {
  const log = createLogger({ dir, transport: "inline", exitHooks: false });
  try {
    const ticks = (await allEvents(log, "tick")).map((e) => e.fields.i as number);
    const drops = await allEvents(log, "log.dropped");
    return { ticks, dropped: drops.reduce((n, e) => n + (e.fields.count as number), 0) };
  } finally {
    await log.close();
  }
}

const OVERFLOW = 200_000;

for (const [mode, transport] of [...EXIT_MODES.map((m) => [m, "auto"]), ["exit", "inline"]]) {
  Deno.test(`${mode} (${transport}) after logging past the ring: events on disk + log.dropped counts = events logged`, async () => {
    const dir = await Deno.makeTempDir({ prefix: `flightlog-exit-overflow-${mode}-` });
    try {
      const r = await runChild(dir, mode!, OVERFLOW, transport!, true);
      assert.equal(r.code, EXIT_CODES[mode!], r.stderr);
      const logged = Number(/logged (\d+)/.exec(r.stdout)?.[1]);
      assert.ok(logged > OVERFLOW, r.stdout);
      const { ticks, dropped } = await storedAndDropped(dir);
      assert.equal(
        ticks.length + dropped,
        logged,
        `${ticks.length} on disk + ${dropped} counted as dropped`,
      );
      // Each event once, in order: a drop never stores a duplicate.
      for (let k = 1; k < ticks.length; k++) assert.ok(ticks[k]! > ticks[k - 1]!);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const appSignalFixture = new URL("./fixtures/app_signal.ts", import.meta.url).pathname;

/** Runs app_signal.ts, sends `signal` once it is ready; returns its exit code, output and events. */
async function runAppSignal(
  signal: "SIGINT" | "SIGTERM",
  how: "after" | "before" | "process.on" | "removed" | "process.off",
): Promise<{ code: number; stdout: string; events: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: `flightlog-app-signal-${how}-` });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        appSignalFixture,
        dir,
        signal,
        how,
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    // A hang fails the test instead of blocking the suite.
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const reader = child.stdout.getReader();
    let stdout = "";
    while (!stdout.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += new TextDecoder().decode(value);
    }
    child.kill(signal);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += new TextDecoder().decode(value);
    }
    const { code } = await child.status;
    clearTimeout(killer);
    const log = createLogger({ dir, transport: "inline", exitHooks: false });
    const events = (await allEvents(log, "*")).map((e) => e.event);
    await log.close();
    return { code, stdout, events };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  const code = signal === "SIGINT" ? 130 : 143;
  for (const how of ["after", "before", "process.on"] as const) {
    const label = how === "process.on" ? "process.on()" : `${how} createLogger()`;
    Deno.test(`${signal} with the application's own listener (${label}): the application's graceful shutdown runs and decides the exit, every event on disk`, async () => {
      const r = await runAppSignal(signal, how);
      assert.match(r.stdout, /graceful shutdown done/);
      assert.equal(r.code, 0);
      assert.equal(r.events.filter((e) => e === "tick").length, 1000);
      assert.deepEqual(r.events.filter((e) => e.startsWith("shutdown_")), [
        "shutdown_begin",
        "shutdown_end",
      ]);
    });
  }

  for (const how of ["removed", "process.off"] as const) {
    Deno.test(`${signal} after the application removed its listener (${how}): flightlog flushes and exits with ${code}`, async () => {
      const r = await runAppSignal(signal, how);
      assert.equal(r.code, code);
      assert.doesNotMatch(r.stdout, /graceful/);
      assert.equal(r.events.filter((e) => e === "tick").length, 1000);
    });
  }
}

Deno.test("a dead worker: flush() rejects with the reason and the process still exits at once", async () => {
  const notADir = await Deno.makeTempFile({ prefix: "flightlog-not-a-dir-" });
  try {
    const t0 = performance.now();
    const out = await fixtureCommand(notADir, "deadstore", "100").output();
    const ms = performance.now() - t0;
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(
      stdout,
      /flush rejected: Cannot open the flightlog store in ".+": .+; this logger drops \(and counts\) every event: give option dir a writable directory/,
    );
    // The exit flush does not wait for a failed worker (exitTimeoutMs is 1 s);
    // generous bound: a hang would be the 30 s suite default.
    assert.ok(ms < 20_000, `took ${ms} ms`);
  } finally {
    await Deno.remove(notADir);
  }
});
