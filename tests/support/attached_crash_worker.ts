/// <reference lib="deno.worker" />
/**
 * An application Worker for tests/reliability/worker_crash_test.ts: logs
 * through attachLogger() child loggers, a burst per timer tick, until told to
 * stop; then flushes and reports its stats.
 */
import { attachLogger, type ProducerHandle } from "../../mod.ts";

type Message = { kind: "start"; handle: ProducerHandle } | { kind: "stop" };

let stop = false;
self.onmessage = async (e: MessageEvent<Message>) => {
  if (e.data.kind === "stop") {
    stop = true;
    return;
  }
  const log = attachLogger(e.data.handle);
  const children = Array.from({ length: 4 }, (_, i) => log.child({ flow_id: `a-${i}`, k: i }));
  let n = 0;
  self.postMessage({ kind: "started" });
  while (!stop) {
    for (let i = 0; i < 20; i++, n++) children[n % 4]!.info("attached", { n });
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await log.flush();
  const s = log.stats();
  await log.close();
  self.postMessage({
    kind: "done",
    producer: s.producer,
    emitted: s.emitted,
    persisted: s.persisted,
    dropped: s.dropped,
  });
};
