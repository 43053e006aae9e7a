import assert from "node:assert/strict";
import { resolveUplinkOptions } from "../../src/uplink/options.ts";
import { Uplink, type UplinkSource } from "../../src/uplink/uplink.ts";
import { events, Harness, uidsOfEvents, withHarness } from "./_harness.ts";

/** Appends `records` records of `per` events each; returns the events. */
function fill(h: Harness, records: number, per = 10, from = 1) {
  const all = [];
  for (let r = 0; r < records; r++) {
    const batch = events(from + r * per, per);
    h.store.append(batch);
    all.push(...batch);
  }
  return all;
}

/** Duplicated uids of a list, each as often as it repeats. */
function duplicates(uids: string[]): string[] {
  const seen = new Set<string>();
  return uids.filter((u) => seen.has(u) || (seen.add(u), false));
}

Deno.test("Uplink.step() ships every stored event oldest first as gzip OTLP/JSON", async () => {
  await withHarness(async (h) => {
    const all = fill(h, 10);
    await h.deliver();
    assert.deepEqual(h.receiver.uids(), uidsOfEvents(all));
    assert.ok(h.receiver.received.every((r) => r.gzip));
    assert.ok(h.receiver.received.every((r) => r.uids.length <= 25));
    const stats = h.uplink.stats();
    assert.equal(stats.sent, 100);
    assert.equal(stats.backlog_events, 0);
    assert.equal(stats.backlog_bytes, 0);
    assert.equal(stats.last_success_ms, h.now);
    assert.equal(stats.failed, 0);
  });
});

Deno.test("Uplink.step() honours Retry-After in seconds and as an HTTP date on 429", async () => {
  await withHarness(async (h) => {
    fill(h, 2);
    h.receiver.faults.push({ status: 429, retryAfter: "7" });
    assert.equal(await h.uplink.step(), 7000);
    // Not due yet: nothing is sent before the time asked for.
    h.now += 6999;
    assert.equal(await h.uplink.step(), 1);
    assert.equal(h.receiver.attempts, 1);
    h.now += 1;
    h.receiver.faults.push({
      status: 429,
      retryAfter: new Date(h.now + 12_000).toUTCString(),
    });
    const wait = await h.uplink.step();
    assert.ok(wait > 11_000 && wait <= 12_000, String(wait));
    h.now += wait;
    await h.deliver();
    assert.equal(h.receiver.uids().length, 20);
    assert.equal(duplicates(h.receiver.uids()).length, 0);
    assert.equal(h.uplink.stats().retried, 2);
  });
});

Deno.test("Uplink.step() retries 503, 502 and 504 with growing, capped backoff", async () => {
  await withHarness({ backoff: { initialMs: 1000, maxMs: 4000 } }, async (h) => {
    const all = fill(h, 3);
    h.receiver.faults.push({ status: 503 }, { status: 502 }, { status: 504 }, { status: 503 }, {
      status: 503,
    });
    const waits = [];
    for (let i = 0; i < 5; i++) {
      const wait = await h.uplink.step();
      waits.push(wait);
      h.now += wait;
    }
    // random() is 0.5: 75% of 1, 2, 4, 4, 4 seconds.
    assert.deepEqual(waits, [750, 1500, 3000, 3000, 3000]);
    assert.equal(h.uplink.stats().offline, 1);
    await h.deliver();
    assert.deepEqual(h.receiver.uids(), uidsOfEvents(all));
    const stats = h.uplink.stats();
    assert.equal(stats.retried, 5);
    assert.equal(stats.failed, 5);
    assert.equal(stats.offline, 0);
  });
});

Deno.test("Uplink.step() survives connections reset mid-request, sending each event once", async () => {
  await withHarness({ backoff: { initialMs: 1000, maxMs: 4000 } }, async (h) => {
    const all = fill(h, 3);
    // fetch itself resends a request once when a pooled connection is reset
    // before the response; a second reset reaches the uplink as a network error.
    h.receiver.faults.push("reset", "reset", "reset", "reset");
    await h.deliver();
    assert.deepEqual(h.receiver.uids(), uidsOfEvents(all));
    assert.equal(h.receiver.attempts, 6);
    assert.ok(h.uplink.stats().retried >= 1);
  });
});

Deno.test("Uplink.step() sends a batch again when the response is lost, once, with the same ids", async () => {
  await withHarness(async (h) => {
    const all = fill(h, 6);
    h.receiver.faults.push("lose-response");
    await h.deliver();
    const uids = h.receiver.uids();
    const dup = duplicates(uids);
    // Exactly the first batch (two records of ten), duplicated with the same ids.
    assert.deepEqual(dup, uidsOfEvents(all.slice(0, 20)));
    assert.deepEqual([...new Set(uids)], uidsOfEvents(all));
  });
});

Deno.test("Uplink.step() moves a batch refused with 400 to the dead-letter area, once", async () => {
  await withHarness(async (h) => {
    const all = fill(h, 4);
    h.receiver.faults.push({ status: 400, body: '{"message":"bad"}' });
    await h.deliver();
    assert.equal(h.receiver.attempts, 2, "the refused batch is not retried");
    assert.deepEqual(h.receiver.uids(), uidsOfEvents(all.slice(20)));
    assert.equal(h.uplink.stats().dead_lettered, 20);
    const files = [...Deno.readDirSync(`${h.dir}/dead-letter`)].map((e) => e.name);
    assert.equal(files.length, 1);
    const [head, body] = Deno.readTextFileSync(`${h.dir}/dead-letter/${files[0]}`).split("\n");
    assert.equal(JSON.parse(head!).status, 400);
    assert.equal(JSON.parse(body!).resourceLogs[0].scopeLogs[0].logRecords.length, 20);
  });
});

Deno.test("Uplink.step() splits a batch on 413 and acknowledges it once every half is in", async () => {
  await withHarness(async (h) => {
    const all = fill(h, 2);
    h.receiver.faults.push({ status: 413 }, { status: 413 });
    await h.deliver();
    assert.deepEqual(h.receiver.uids(), uidsOfEvents(all));
    assert.deepEqual(h.receiver.received.map((r) => r.uids.length), [5, 5, 10]);
    assert.equal(h.uplink.stats().dead_lettered, 0);
  });
});

Deno.test("Uplink.step() records a partial success without retrying it", async () => {
  await withHarness(async (h) => {
    fill(h, 2);
    h.receiver.faults.push({
      status: 200,
      body: '{"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"too old"}}',
    });
    await h.deliver();
    assert.equal(h.receiver.attempts, 1);
    assert.equal(h.uplink.stats().rejected, 3);
    assert.equal(h.uplink.stats().sent, 17);
  });
});

Deno.test("Uplink.step() waits out a receiver that is down for a period", async () => {
  await withHarness({ backoff: { initialMs: 1000, maxMs: 60_000 } }, async (h) => {
    const all = fill(h, 3);
    await h.receiver.down();
    for (let i = 0; i < 8; i++) {
      const wait = await h.uplink.step();
      assert.ok(wait >= 500 && wait <= 60_000, String(wait));
      h.now += wait;
    }
    assert.equal(h.uplink.stats().offline, 1);
    assert.equal(h.uplink.stats().sent, 0);
    assert.ok(h.uplink.stats().backlog_events === 30);
    h.receiver.up();
    await h.deliver();
    assert.deepEqual(h.receiver.uids(), uidsOfEvents(all));
  });
});

Deno.test("Uplink resumes after a clean restart without sending an acknowledged batch again", async () => {
  await withHarness(async (h) => {
    const first = fill(h, 3);
    await h.deliver();
    await h.restart();
    const second = fill(h, 3, 10, 31);
    await h.deliver();
    assert.deepEqual(h.receiver.uids(), uidsOfEvents([...first, ...second]));
  });
});

Deno.test("Uplink delivers everything through every fault, each duplicating at most one batch", async () => {
  await withHarness({ backoff: { initialMs: 100, maxMs: 1000 } }, async (h) => {
    const all = fill(h, 20);
    h.receiver.faults.push(
      { status: 429, retryAfter: "2" },
      { status: 503 },
      "reset",
      "lose-response",
      { status: 413 },
      "lose-response",
    );
    await h.deliver();
    const uids = h.receiver.uids();
    assert.deepEqual([...new Set(uids)], uidsOfEvents(all));
    const dup = duplicates(uids);
    // Two lost responses: at most two batches (25 events max each) come twice.
    assert.ok(dup.length <= 2 * 25, String(dup.length));
    assert.ok(dup.length > 0);
    await h.restart();
    await h.deliver();
    assert.equal(h.receiver.uids().length, uids.length, "nothing is sent again after a restart");
  });
});

Deno.test("Uplink ships spans to /v1/traces and logs to /v1/logs, each from its own position", async () => {
  await withHarness({
    signals: ["logs", "traces"],
    resource: { "service.name": "svc" },
  }, async (h) => {
    h.store.append([
      ...events(1, 3),
      { ...events(4, 1)[0]!, fields: { flow_id: "f", span_id: "a1", duration_ms: 12 } },
    ]);
    await h.deliver();
    assert.equal(h.receiver.uids("logs").length, 4);
    const traces = h.receiver.received.filter((r) => r.signal === "traces");
    assert.equal(traces.length, 1);
    const spans = traces[0]!.request.resourceSpans[0].scopeSpans[0].spans;
    // deno-lint-ignore no-explicit-any
    assert.deepEqual(spans.map((s: any) => s.name).sort(), ["a1", "s1", "s2", "s3"]);
    assert.equal(spans.length, 4);
    assert.equal(
      traces[0]!.request.resourceSpans[0].resource.attributes[0].value.stringValue,
      "svc",
    );
    assert.equal(h.uplink.stats().sent, 8, "4 log records and 4 spans");
    const last = h.store.lastSeq;
    assert.deepEqual(h.uplink.positions(), { logs: last, traces: last });
  });
});

/** Bytes of the segment files in `dir`. */
function segmentBytes(dir: string): number {
  let bytes = 0;
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isFile && entry.name.endsWith(".flog")) {
      bytes += Deno.statSync(`${dir}/${entry.name}`).size;
    }
  }
  return bytes;
}

Deno.test("Uplink through a six-hour outage: disk within its cap plus one segment, evictions counted, backoff capped", async () => {
  const maxBytes = 64 * 1024;
  const segment = 8 * 1024;
  const calls: number[] = [];
  let h: Harness | null = null;
  h = await Harness.open(
    { backoff: { initialMs: 1000, maxMs: 300_000 } },
    { maxBytes, segmentBytes: segment },
    { fetch: (input, init) => (calls.push(h!.now), fetch(input, init)) },
  );
  try {
    await h.receiver.down();
    const start = h.now;
    let nextAppend = start;
    let appended = 0;
    let maxDisk = 0;
    while (h.now < start + 6 * 3600_000) {
      const wait = await h.uplink.step();
      const target = h.now + wait;
      while (nextAppend <= target) {
        h.now = nextAppend;
        h.store.append(events(appended + 1, 20));
        appended += 20;
        nextAppend += 60_000;
        maxDisk = Math.max(maxDisk, segmentBytes(h.dir));
      }
      h.now = target;
    }
    assert.ok(maxDisk <= maxBytes + segment, `disk reached ${maxDisk}`);
    assert.ok(maxDisk > maxBytes / 2, "the test filled the disk");
    const gaps = calls.slice(1).map((t, i) => t - calls[i]!);
    assert.ok(gaps.every((g) => g <= 300_000), `a gap over the cap: ${Math.max(...gaps)}`);
    assert.equal(gaps.at(-1), 225_000, "random 0.5 gives 75% of the 300 s cap");
    assert.ok(calls.length > 90 && calls.length < 110, `${calls.length} attempts in six hours`);
    const stats = h.uplink.stats();
    assert.ok(stats.evicted > 0);
    // Nothing was sent before the store evicted it, so every evicted event was unsent.
    assert.equal(stats.evicted, h.store.stats().evicted.events);
    assert.equal(stats.sent, 0);
    h.receiver.up();
    h.uplink.wake();
    await h.deliver();
    const users = h.receiver.uids().filter((u) => u.startsWith("p.1:"));
    // What arrives is the newest contiguous run, in order, ending with the last event.
    const first = Number(users[0]!.slice(4));
    assert.deepEqual(
      users,
      Array.from({ length: appended - first + 1 }, (_, i) => `p.1:${first + i}`),
    );
    assert.ok(
      h.receiver.received.some((r) =>
        r.request.resourceLogs[0].scopeLogs[0].logRecords.some(
          // deno-lint-ignore no-explicit-any
          (l: any) => l.body.stringValue === "log.evicted",
        )
      ),
    );
  } finally {
    await h.close();
  }
});

Deno.test("Uplink evicts the oldest unsent records past maxBacklogBytes and says so in log.evicted", async () => {
  await withHarness({ maxBacklogBytes: 2000 }, async (h) => {
    await h.receiver.down();
    fill(h, 20);
    await h.uplink.step();
    const stats = h.uplink.stats();
    assert.ok(stats.evicted >= 150, String(stats.evicted));
    assert.ok(stats.backlog_bytes <= 2000 + 200, String(stats.backlog_bytes));
    const notice = h.store.query({ event: "log.evicted" }).events;
    assert.equal(notice.length, 1);
    assert.equal(notice[0]!.fields.reason, "uplink_backlog");
    assert.equal(notice[0]!.fields.events, stats.evicted);
    h.receiver.up();
    await h.deliver();
    const uids = h.receiver.uids();
    assert.deepEqual(uids.filter((u) => u.startsWith("uplink:")), ["uplink:1"]);
    assert.equal(new Set(uids.filter((u) => u.startsWith("p.1:"))).size + stats.evicted, 200);
    assert.equal(h.uplink.stats().evicted, stats.evicted);
  });
});

Deno.test("Uplink.wake() (the browser's online hint) retries at once instead of at the end of the backoff", async () => {
  await withHarness({ backoff: { initialMs: 60_000, maxMs: 60_000 } }, async (h) => {
    const all = fill(h, 1);
    await h.receiver.down();
    assert.equal(await h.uplink.step(), 45_000);
    h.receiver.up();
    // Without the hint, nothing is sent before the backoff ends.
    assert.ok((await h.uplink.step()) > 0);
    assert.equal(h.receiver.received.length, 0);
    h.uplink.wake();
    await h.uplink.step();
    assert.deepEqual(h.receiver.uids(), uidsOfEvents(all));
  });
});

Deno.test("Uplink gzips with CompressionStream when no gzip function is given", async () => {
  await withHarness({}, {}, { gzip: undefined as never }, async (h) => {
    const all = fill(h, 2);
    await h.deliver();
    assert.deepEqual(h.receiver.uids(), uidsOfEvents(all));
    assert.ok(h.receiver.received.every((r) => r.gzip));
  });
});

Deno.test("Uplink.close() aborts a request in flight and keeps the position where it was", async () => {
  await withHarness(async (h) => {
    fill(h, 2);
    h.receiver.faults.push("hang");
    const committed = new Promise<void>((resolve) => (h.receiver.onCommit = () => resolve()));
    const step = h.uplink.step();
    await committed;
    await h.uplink.close();
    assert.equal(await step, 0);
    assert.deepEqual(h.uplink.positions(), { logs: 0 });
    assert.equal(h.uplink.stats().sent, 0);
    assert.equal(h.uplink.stats().failed, 0, "an abort by close() is no failure");
  });
});

Deno.test("Uplink saves every acknowledgement, durably at most once a second and at close", async () => {
  const saves: [number, boolean][] = [];
  await withHarness({ batchEvents: 10 }, async (h) => {
    fill(h, 5);
    let now = h.now;
    const options = resolveUplinkOptions({
      url: h.receiver.url,
      signals: ["logs"],
      batchEvents: 10,
    });
    const uplink = new Uplink(options, {
      source: h.store,
      files: {
        loadCursor: () => null,
        saveCursor: (_signal, position, durable) => saves.push([position.seq, durable]),
        writeDeadLetter: () => {},
      },
      clock: () => now,
    });
    for (let i = 0; i < 5; i++) {
      await uplink.step();
      now += 400;
    }
    await uplink.close();
    // Acknowledged at 0, 400, 800, 1200 and 1600 ms: durable at 0 and 1200, then at close.
    assert.deepEqual(saves, [[1, true], [2, false], [3, false], [4, true], [5, false], [5, true]]);
  });
});

/** An uplink to `h`'s receiver reading from `source`, with no files: no position is kept. */
function uplinkReading(h: Harness, source: UplinkSource): Uplink {
  const options = resolveUplinkOptions({ url: h.receiver.url, signals: ["logs"], batchEvents: 25 });
  return new Uplink(options, {
    source,
    files: { loadCursor: () => null, saveCursor: () => {}, writeDeadLetter: () => {} },
  });
}

Deno.test("Uplink reads from an asynchronous source, as the IndexedDB store will be", async () => {
  await withHarness(async (h) => {
    const all = fill(h, 4);
    const store = h.store;
    const later = <T>(value: T) =>
      new Promise<T>((resolve) => queueMicrotask(() => resolve(value)));
    const uplink = uplinkReading(h, {
      get lastSeq() {
        return store.lastSeq;
      },
      readAfter: (after, max) => later(store.readAfter(after, max)),
      recordsAfter: (after, max) => later(store.recordsAfter(after, max)),
      backlog: (after) => later(store.backlog(after)),
      append: (events) => later(store.append(events)),
    });
    while ((uplink.positions().logs ?? 0) < store.lastSeq) await uplink.step();
    assert.deepEqual(h.receiver.uids(), uidsOfEvents(all));
    assert.equal(uplink.stats().backlog_events, 0);
    await uplink.close();
  });
});

Deno.test("Uplink never skips a record appended between its two reads of the store", async () => {
  await withHarness(async (h) => {
    const store = h.store;
    let appended: ReturnType<typeof fill> = [];
    // The worker's consumer runs between the uplink's awaits: here it appends
    // right after readAfter() found nothing.
    const uplink = uplinkReading(h, {
      get lastSeq() {
        return store.lastSeq;
      },
      readAfter: (after, max) => {
        const found = store.readAfter(after, max);
        if (found.length === 0 && appended.length === 0) appended = fill(h, 1);
        return found;
      },
      recordsAfter: (after, max) => store.recordsAfter(after, max),
      backlog: (after) => store.backlog(after),
      append: (events) => store.append(events),
    });
    await uplink.step();
    while ((uplink.positions().logs ?? 0) < store.lastSeq) await uplink.step();
    assert.equal(appended.length, 10);
    assert.deepEqual(h.receiver.uids(), uidsOfEvents(appended));
    await uplink.close();
  });
});

Deno.test("Uplink steps over a damaged record instead of stalling on it", async () => {
  await withHarness({ batchEvents: 10 }, async (h) => {
    const all = fill(h, 3);
    const second = h.store.recordsAfter(1, 1)[0]!;
    const [segment] = [...Deno.readDirSync(h.dir)].filter((e) => e.name.endsWith(".flog"));
    const file = Deno.openSync(`${h.dir}/${segment!.name}`, { read: true, write: true });
    try {
      const at = Math.floor((second.start + second.end) / 2);
      const byte = new Uint8Array(1);
      file.seekSync(at, Deno.SeekMode.Start);
      file.readSync(byte);
      file.seekSync(at, Deno.SeekMode.Start);
      file.writeSync(new Uint8Array([byte[0]! ^ 0xff]));
    } finally {
      file.close();
    }
    await h.deliver(20);
    assert.deepEqual(h.receiver.uids(), uidsOfEvents([...all.slice(0, 10), ...all.slice(20)]));
    assert.equal(h.store.stats().damage.read_failures > 0, true);
  });
});
