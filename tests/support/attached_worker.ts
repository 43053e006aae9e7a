/// <reference lib="deno.worker" />
/** An application Worker that logs through attachLogger(); used by tests/front/logger_test.ts. */
import { attachLogger, type ProducerHandle } from "../../mod.ts";

self.onmessage = async (e: MessageEvent<{ handle: ProducerHandle; count: number }>) => {
  const log = attachLogger(e.data.handle).child({ flow_id: "multi", worker: true });
  for (let i = 0; i < e.data.count; i++) log.info("from-worker", { i });
  await log.flush();
  const s = log.stats();
  await log.close();
  self.postMessage({ emitted: s.emitted, persisted: s.persisted, dropped: s.dropped });
};
