/**
 * Uplink figures (`deno task bench:uplink`), printed as Markdown tables:
 *
 * 1. Delivery throughput: a store holding a backlog of the benchmark workload
 *    is shipped by an `Uplink` to a loopback OTLP/HTTP receiver (`Deno.serve`
 *    on 127.0.0.1 in its own process, reading each body and answering 200),
 *    gzip and not; then where the time goes, stage by stage.
 * 3. End to end while the uplink drains a backlog in the same worker.
 * 4. The logging caller's cost while the uplink drains a backlog, against the
 *    same logger shape with no uplink, in alternating batches of one process.
 *
 * Medians over rounds/batches; the machines are shared, so compare ratios
 * within one run. It is a task, not a test.
 *
 * @module
 */
import type { Logger } from "../mod.ts";
import type { LogEvent } from "../src/event.ts";
import { SegmentStore } from "../src/store/segment_store.ts";
import { denoUplinkFiles } from "../src/uplink/_files_deno.ts";
import { gzipDeno } from "../src/uplink/_gzip_deno.ts";
import { Uplink } from "../src/uplink/uplink.ts";
import { toOtlpLogs } from "../src/export/otlp.ts";
import { encodeOtlpLogs } from "../src/export/otlp_json.ts";
import {
  BINDINGS,
  CALLER_RING,
  callFields,
  decodedEvent,
  emitTimed,
  EVENT,
  fmt,
  fmtInt,
  header,
  infoLoop,
  interleave,
  median,
  openFlow,
  table,
  withTempDir,
} from "./_workload.ts";

const BACKLOG_EVENTS = 200_000;
const ROUNDS = 3;

interface Receiver {
  url: string;
  /** Stops the receiver; resolves with the request body bytes it read. */
  stop(): Promise<number>;
}

/** Starts the loopback receiver in its own process (bench/_uplink_receiver.ts). */
async function startReceiver(): Promise<Receiver> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      new URL("./_uplink_receiver.ts", import.meta.url).pathname,
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("the receiver ended before printing its port");
    text += value;
  }
  const port = Number(text.trim());
  let stopped: Promise<number> | null = null;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => stopped ??= stop(),
  };
  async function stop(): Promise<number> {
    await child.stdin.close();
    let rest = "";
    while (true) {
      const { value, done } = await lines.read();
      if (done) break;
      rest += value;
    }
    await child.status;
    return Number(rest.trim());
  }
}

/** Fills `dir` with `count` workload events as the worker stores them (1024 per append). */
function fillStore(dir: string, count: number, producer = "bench.0"): void {
  const store = SegmentStore.open(dir);
  try {
    let seq = 0;
    while (seq < count) {
      const batch: LogEvent[] = [];
      for (let i = 0; i < 1024 && seq < count; i++) {
        seq++;
        batch.push(
          decodedEvent(seq, 1_700_000_000_000 + seq, { ...BINDINGS, ...callFields(seq) }, producer),
        );
      }
      store.append(batch);
    }
    store.sync();
  } finally {
    store.close();
  }
}

/** Runs `fn` with a receiver started for it, and stops the receiver afterwards. */
async function withReceiver<T>(fn: (receiver: Receiver) => Promise<T>): Promise<T> {
  const receiver = await startReceiver();
  try {
    return await fn(receiver);
  } finally {
    await receiver.stop();
  }
}

function deliveryRound(
  compression: "gzip" | "none",
  batchEvents: number,
): Promise<{ eventsPerS: number; bytesPerEvent: number }> {
  return withReceiver((receiver) =>
    withTempDir(async (dir) => {
      fillStore(dir, BACKLOG_EVENTS);
      const store = SegmentStore.open(dir);
      const uplink = new Uplink(
        { url: receiver.url, signals: ["logs"], compression, batchEvents },
        { source: store, files: denoUplinkFiles(dir), gzip: gzipDeno },
      );
      try {
        const t0 = performance.now();
        while ((uplink.positions().logs ?? 0) < store.lastSeq) await uplink.step();
        const ms = performance.now() - t0;
        const sent = uplink.stats().sent;
        if (sent !== BACKLOG_EVENTS) throw new Error(`sent ${sent} of ${BACKLOG_EVENTS}`);
        await uplink.close();
        return { eventsPerS: (sent / ms) * 1000, bytesPerEvent: (await receiver.stop()) / sent };
      } finally {
        await uplink.close();
        store.close();
      }
    })
  );
}

/** Where the time of one delivery goes: each stage timed alone over the same backlog. */
function stages(): Promise<Record<string, number>> {
  return withTempDir(async (dir) => {
    fillStore(dir, BACKLOG_EVENTS);
    const store = SegmentStore.open(dir);
    const ns = {
      "read + decode (store)": 0,
      "encodeOtlpLogs (sent: the same bytes)": 0,
      "encode (toOtlpLogs)": 0,
      "JSON.stringify + TextEncoder": 0,
      "gzip (node:zlib)": 0,
      "gzip (CompressionStream)": 0,
    };
    try {
      let cursor = 0;
      while (cursor < store.lastSeq) {
        const t0 = performance.now();
        const records = store.readAfter(cursor, 512);
        cursor = records.at(-1)!.seq;
        const events = records.flatMap((r) => r.events);
        const t1 = performance.now();
        // What the uplink sends, timed first: no garbage of the reference path is collected in it.
        const json = encodeOtlpLogs(events);
        const t2 = performance.now();
        const request = toOtlpLogs(events);
        const t3 = performance.now();
        const text = JSON.stringify(request);
        new TextEncoder().encode(text);
        const t4 = performance.now();
        if (new TextDecoder().decode(json) !== text) {
          throw new Error("encodeOtlpLogs differs from JSON.stringify(toOtlpLogs)");
        }
        const t5 = performance.now();
        await gzipDeno(json);
        const t6 = performance.now();
        ns["read + decode (store)"] += t1 - t0;
        ns["encodeOtlpLogs (sent: the same bytes)"] += t2 - t1;
        ns["encode (toOtlpLogs)"] += t3 - t2;
        ns["JSON.stringify + TextEncoder"] += t4 - t3;
        ns["gzip (node:zlib)"] += t6 - t5;
        const t7 = performance.now();
        const stream = new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"));
        await new Response(stream).arrayBuffer();
        ns["gzip (CompressionStream)"] += performance.now() - t7;
      }
    } finally {
      store.close();
    }
    for (const key of Object.keys(ns) as (keyof typeof ns)[]) {
      ns[key] = (ns[key] * 1e6) / BACKLOG_EVENTS;
    }
    return ns;
  });
}

// A second copy of infoLoop, so each call site only ever sees one logger.
function infoLoop2(flow: Logger, n: number): void {
  for (let i = 0; i < n; i++) flow.info(EVENT, callFields(i));
}

const backlog = (log: Logger): number => log.stats().uplink?.backlog_events ?? 0;

function callerCost(): Promise<{ idle: number[]; draining: number[]; left: number }> {
  return withReceiver((receiver) =>
    withTempDir(async (dir) => {
      fillStore(`${dir}/busy`, 4 * BACKLOG_EVENTS, "old.0");
      const idle = openFlow({ dir: `${dir}/idle`, ringBytes: CALLER_RING });
      const busy = openFlow({
        dir: `${dir}/busy`,
        ringBytes: CALLER_RING,
        uplink: { url: receiver.url, signals: ["logs"], intervalMs: 10 },
      });
      try {
        await idle.log.flush();
        await busy.log.flush();
        // A round counts only if the uplink was draining when it began and has sent.
        let draining = backlog(busy.log) > 0;
        const [idleNs, busyNs] = await interleave([
          { loop: (n) => infoLoop(idle.flow, n) },
          { loop: (n) => infoLoop2(busy.flow, n) },
        ], {
          afterRound: async () => {
            await idle.log.flush();
            await busy.log.flush();
            const keep = draining && (busy.log.stats().uplink?.sent ?? 0) > 0;
            draining = backlog(busy.log) > 0;
            return keep;
          },
        });
        return { idle: idleNs!, draining: busyNs!, left: backlog(busy.log) };
      } finally {
        await idle.log.close();
        await busy.log.close();
      }
    })
  );
}

/**
 * End to end (log 200,000 events as fast as possible under the "block"
 * policy, then flush; persisted events per second) with and without an
 * uplink draining a backlog in the same worker.
 */
function endToEnd(
  uplink: boolean,
  batchEvents: number,
): Promise<{ eventsPerS: number; dropped: number }> {
  return withReceiver((receiver) =>
    withTempDir(async (dir) => {
      if (uplink) fillStore(dir, 4 * BACKLOG_EVENTS, "old.0");
      const { ms, stats } = await emitTimed(
        {
          dir,
          overflow: "block",
          ...(uplink
            ? { uplink: { url: receiver.url, signals: ["logs"], intervalMs: 10, batchEvents } }
            : {}),
        },
        BACKLOG_EVENTS,
        async (log) => {
          if (!uplink) return;
          while ((log.stats().uplink?.sent ?? 0) === 0) await new Promise((r) => setTimeout(r, 5));
        },
      );
      if (uplink && (stats.uplink?.backlog_events ?? 0) === 0) {
        throw new Error("the backlog drained before the end: make it larger");
      }
      return { eventsPerS: (stats.persisted / ms) * 1000, dropped: stats.dropped };
    })
  );
}

async function main(): Promise<void> {
  console.log(header("flightlog uplink"));
  // `deno task bench:uplink <section>` runs one section: delivery, stages, e2e or caller.
  const only = Deno.args[0];
  const run = (section: string) => only === undefined || only === section;
  if (run("delivery")) await printDelivery();
  if (run("stages")) await printStages();
  if (run("e2e")) await printEndToEnd();
  if (run("caller")) await printCallerCost();
}

async function printDelivery(): Promise<void> {
  const rows = [["compression", "batchEvents", "events/s (median)", "runs", "wire bytes/event"]];
  for (
    const [compression, batchEvents] of [["gzip", 512], ["gzip", 2048], ["none", 512]] as const
  ) {
    const runs = [];
    for (let r = 0; r < ROUNDS; r++) runs.push(await deliveryRound(compression, batchEvents));
    rows.push([
      compression,
      String(batchEvents),
      fmtInt(median(runs.map((x) => x.eventsPerS))),
      runs.map((x) => fmtInt(x.eventsPerS)).join(", "),
      fmt(median(runs.map((x) => x.bytesPerEvent)), 1),
    ]);
  }
  console.log(`\nDelivery of a ${fmtInt(BACKLOG_EVENTS)}-event backlog to a loopback receiver\n`);
  console.log(table(rows, ["l", "r", "r", "l", "r"]));
}

async function printStages(): Promise<void> {
  const parts = await stages();
  console.log(`\nWhere the time goes (each stage alone, same backlog, gzip)\n`);
  console.log(table([
    ["stage", "ns/event"],
    ...Object.entries(parts).map(([k, v]) => [k, fmt(v, 0)]),
  ], ["l", "r"]));
}

async function printEndToEnd(): Promise<void> {
  const e2eRows = [["logger", "persisted events/s (median)", "runs", "dropped (all runs)"]];
  for (
    const [label, on, batch] of [
      ["no uplink", false, 0],
      ["uplink draining, batchEvents 2048", true, 2048],
      ["uplink draining, batchEvents 512", true, 512],
    ] as const
  ) {
    const runs = [];
    for (let r = 0; r < ROUNDS; r++) runs.push(await endToEnd(on, batch));
    e2eRows.push([
      label,
      fmtInt(median(runs.map((x) => x.eventsPerS))),
      runs.map((x) => fmtInt(x.eventsPerS)).join(", "),
      String(runs.reduce((a, x) => a + x.dropped, 0)),
    ]);
  }
  console.log(
    `\nEnd to end, ${fmtInt(BACKLOG_EVENTS)} events logged as fast as possible ("block" policy)\n`,
  );
  console.log(table(e2eRows, ["l", "r", "l", "r"]));
}

async function printCallerCost(): Promise<void> {
  const cost = await callerCost();
  const idle = median([...cost.idle]);
  const draining = median([...cost.draining]);
  console.log(`\nCaller cost of an info call (7 bound ids + 2 fields), alternating batches\n`);
  console.log(table([
    ["logger", "ns/call (median)", "batches"],
    ["idle (no uplink)", fmt(idle, 1), String(cost.idle.length)],
    ["uplink draining a backlog", fmt(draining, 1), String(cost.draining.length)],
    ["ratio", fmt(draining / idle, 3), ""],
  ], ["l", "r", "r"]));
  console.log(
    `\nbacklog left when measuring ended: ${fmtInt(cost.left)} events (> 0: it drained throughout)`,
  );
}

if (import.meta.main) await main();
