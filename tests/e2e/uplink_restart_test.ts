/**
 * Kill (SIGKILL) a process while its uplink delivers, restart it on the same
 * store: the receiver ends with every flushed event, in order per producer,
 * with at most the batch in flight sent twice.
 */
import assert from "node:assert/strict";
import { OtlpReceiver } from "../support/otlp_receiver.ts";

const fixture = new URL("./fixtures/uplink_child.ts", import.meta.url).pathname;
const BATCH = 100;

function spawn(dir: string, url: string, count: number, mode: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net=127.0.0.1",
      fixture,
      dir,
      url,
      String(count),
      mode,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Resolves with the child's `flushed <producer> <count>` line. */
async function flushedLine(child: Deno.ChildProcess): Promise<[string, number]> {
  const reader = child.stdout.getReader();
  let seen = "";
  while (!/flushed \S+ \d+\n/.test(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child ended before flushing: ${seen}`);
    seen += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const [, producer, count] = seen.match(/flushed (\S+) (\d+)/)!;
  return [producer!, Number(count)];
}

Deno.test("uplink after SIGKILL during delivery: a restart delivers everything, in order per producer", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-uplink-kill-" });
  const receiver = OtlpReceiver.start();
  try {
    // Down until the child has flushed, so the kill comes in the middle of delivery.
    await receiver.down();
    const first = spawn(dir, receiver.url, 3000, "stay");
    const killer = setTimeout(() => first.kill("SIGKILL"), 30_000);
    let killed = false;
    // Kill on the third commit: the child is then waiting for the response.
    receiver.onCommit = () => {
      if (receiver.received.length < 3 || killed) return;
      killed = true;
      first.kill("SIGKILL");
      return false;
    };
    const [producer1, count1] = await flushedLine(first);
    receiver.up();
    const status = await first.status;
    clearTimeout(killer);
    await first.stdout.cancel();
    await first.stderr.cancel();
    assert.equal(status.signal, "SIGKILL");
    receiver.onCommit = null;
    const before = receiver.uids().length;
    assert.ok(before < count1, `the kill came during delivery (${before} of ${count1} sent)`);

    const second = spawn(dir, receiver.url, 500, "wait");
    const killer2 = setTimeout(() => second.kill("SIGKILL"), 30_000);
    const [producer2, count2] = await flushedLine(second);
    const out = await second.output();
    clearTimeout(killer2);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));

    const uids = receiver.uids();
    for (const [producer, count] of [[producer1, count1], [producer2, count2]] as const) {
      const seqs = uids.filter((u) => u.startsWith(producer + ":")).map((u) =>
        Number(u.slice(producer.length + 1))
      );
      const firsts = [...new Set(seqs)];
      assert.equal(firsts.length, count, `producer ${producer}: ${firsts.length} of ${count}`);
      assert.ok(firsts.every((s, i) => i === 0 || s > firsts[i - 1]!), "in order per producer");
    }
    const duplicates = uids.length - new Set(uids).size;
    assert.ok(duplicates <= BATCH, `${duplicates} duplicates: at most the batch in flight`);
  } finally {
    await receiver.close();
    await Deno.remove(dir, { recursive: true });
  }
});
