// What the Node.js tests share: a temporary store, a child Node.js or Deno
// process run to its end, a flow read back through the public API, and a
// bounded wait on a real condition. Run by `node --test` inside a project
// that has installed the packed package (tests/platform/node_test.ts).
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger } from "flightlog";

/** The fixture scripts beside this file. */
export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** The repository: its Deno CLI and Deno writer (set by tests/platform/node_test.ts). */
export const REPO = process.env.FLIGHTLOG_REPO ?? "";
/** The Deno executable that runs the test task. */
export const DENO = process.env.FLIGHTLOG_DENO ?? "deno";

/** A new empty directory, removed by the returned function. */
export async function tempDir(t) {
  const dir = await mkdtemp(join(tmpdir(), "flightlog-node-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Runs `command` to its end; `onLine` sees each stdout line (and may signal
 * the child). Resolves with its exit code, signal and output. A child that
 * hangs is killed after 30 s, so the test fails instead of blocking the run.
 */
export function runChild(command, args, { cwd, onLine, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let partial = "";
    child.stdout.setEncoding("utf8").on("data", (text) => {
      stdout += text;
      partial += text;
      let nl;
      while ((nl = partial.indexOf("\n")) >= 0) {
        onLine?.(partial.slice(0, nl), child);
        partial = partial.slice(nl + 1);
      }
    });
    child.stderr.setEncoding("utf8").on("data", (text) => (stderr += text));
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs a fixture script with Node.js. */
export function runFixture(name, args, options) {
  return runChild(process.execPath, [join(FIXTURES, name), ...args], options);
}

/** The events of `flowId` in the store `dir`, read by a logger opened after its writer ended. */
export async function readFlow(dir, flowId) {
  const log = createLogger({ dir, exitHooks: false });
  try {
    return (await log.getFlowLog(flowId)).events;
  } finally {
    await log.close();
  }
}

/** Waits until `condition()` is true, checking every few milliseconds, for at most `ms`. */
export async function until(condition, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
