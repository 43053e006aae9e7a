/**
 * A store another process writes: a second logger is refused with a
 * `StoreLockedError` (exported by `mod.ts`) that names the directory, the
 * holding process and the remedy; worker loggers give up with it (`flush()`
 * rejects with it, `stats().error` is its message), the inline transport
 * throws it from `createLogger()`. The CLI reads the store meanwhile.
 */
import assert from "node:assert/strict";
import { createLogger, StoreLockedError } from "../../mod.ts";

const fixture = new URL("./fixtures/lock_holder.ts", import.meta.url).pathname;
const cli = new URL("../../src/cli/main.ts", import.meta.url).pathname;

function assertNamesHolder(err: unknown, dir: string, pid: number): void {
  assert.ok(err instanceof StoreLockedError, String(err));
  assert.equal(err.name, "StoreLockedError");
  assert.equal(err.dir, dir);
  assert.equal(err.pid, pid);
  assert.ok(err.message.startsWith(`Store ${JSON.stringify(dir)} is locked by process ${pid} (`));
  assert.match(err.message, /give this logger another dir/);
  assert.ok(err.message.includes(`use the CLI (flightlog tail ${JSON.stringify(dir)})`));
  assert.doesNotMatch(err.message, /readOnly/);
}

Deno.test("createLogger() on a store another process writes is refused with a StoreLockedError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-locked-" });
  const holder = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env", fixture, dir],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  // A hang fails the test instead of blocking the suite.
  const killer = setTimeout(() => holder.kill("SIGKILL"), 60_000);
  const stdin = holder.stdin.getWriter();
  const lines = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const { value } = await lines.read();
    assert.equal(value?.trim(), "ready");

    for (const transport of ["sab", "message"] as const) {
      const log = createLogger({ dir, transport, exitHooks: false });
      log.info("refused");
      const err = await log.flush().then(() => null, (e: unknown) => e);
      assertNamesHolder(err, dir, holder.pid);
      const s = log.stats();
      assert.equal(s.worker, "failed");
      assert.equal(s.error, (err as Error).message);
      assert.equal(s.dropped, 1);
      await log.close();
    }
    assert.throws(
      () => createLogger({ dir, transport: "inline", exitHooks: false }),
      (err: unknown) => {
        assertNamesHolder(err, dir, holder.pid);
        return true;
      },
    );

    // The remedy the message gives: the CLI reads while the other process writes.
    const read = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", cli, "tail", dir],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(read.code, 0, new TextDecoder().decode(read.stderr));
    assert.match(new TextDecoder().decode(read.stdout), /held/);
  } finally {
    await stdin.close();
    await lines.cancel();
    await holder.status;
    clearTimeout(killer);
  }
  // Once the holder is gone, the store is a logger's again.
  const log = createLogger({ dir, exitHooks: false });
  log.info("after");
  await log.flush();
  assert.equal(log.stats().persisted, 1);
  await log.close();
  await Deno.remove(dir, { recursive: true });
});
