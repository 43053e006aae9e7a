/**
 * The one configuration step, through the public entry: every bad option
 * makes `createLogger()` (or `attachLogger()`) throw at once, before a worker
 * or a file exists, with the option's name in the message.
 */
import assert from "node:assert/strict";
import { attachLogger, createLogger, type LoggerOptions } from "../../mod.ts";

/** Asserts that `options` are refused at once with `kind` and exactly `message`. */
function refuses(
  options: unknown,
  kind: typeof TypeError | typeof RangeError,
  message: string | RegExp,
): void {
  assert.throws(
    () => createLogger({ transport: "inline", exitHooks: false, ...(options as object) }),
    (err: Error) => {
      assert.equal(err.constructor, kind, `${err.name}: ${err.message}`);
      if (typeof message === "string") assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
    JSON.stringify(options),
  );
}

Deno.test("createLogger() names the closest option for an unknown key", () => {
  refuses({ levle: "debug" }, TypeError, 'Unknown option "levle": did you mean "level"?');
  refuses({ ringbytes: 4096 }, TypeError, 'Unknown option "ringbytes": did you mean "ringBytes"?');
  refuses({ trasnport: "sab" }, TypeError, 'Unknown option "trasnport": did you mean "transport"?');
  refuses({ hungAfter: 10 }, TypeError, 'Unknown option "hungAfter": did you mean "hungAfterMs"?');
});

Deno.test("createLogger() lists the valid names when no option is close", () => {
  refuses(
    { verbose: true },
    TypeError,
    'Unknown option "verbose": use one of dir, level, ringBytes, overflow, blockTimeoutMs, onDrop, ' +
      "transport, limits, store, clock, exitHooks, exitTimeoutMs, flushIntervalMs, hungAfterMs, " +
      "redact, console, metrics, sinks, uplink, workerUrl",
  );
});

Deno.test("createLogger() refuses unknown keys inside every nested option object", () => {
  const url = "http://127.0.0.1:4318";
  const cases: [unknown, string][] = [
    [{ store: { segmentByte: 1 } }, '"store.segmentByte": did you mean "store.segmentBytes"?'],
    [{ store: { retention: 1 } }, '"store.retention": use one of store.segmentBytes,'],
    [
      { limits: { maxString: 10 } },
      '"limits.maxString": did you mean "limits.maxStringLength"?',
    ],
    [{ limits: { maxdepth: 4 } }, '"limits.maxdepth": did you mean "limits.maxDepth"?'],
    [{ console: { colour: true } }, '"console.colour": did you mean "console.colors"?'],
    [{ console: { times: "iso" } }, '"console.times": did you mean "console.time"?'],
    [{ metrics: { modul: "./m.ts" } }, '"metrics.modul": did you mean "metrics.module"?'],
    [
      { metrics: { serve: { prot: 0 } } },
      '"metrics.serve.prot": did you mean "metrics.serve.port"?',
    ],
    [{ redact: { extrakeys: ["pin"] } }, '"redact.extrakeys": did you mean "redact.extraKeys"?'],
    [
      { transport: "sab", uplink: { url, batchEvent: 5 } },
      '"uplink.batchEvent": did you mean "uplink.batchEvents"?',
    ],
    [
      { transport: "sab", uplink: { url, backoff: { intialMs: 5 } } },
      '"uplink.backoff.intialMs": did you mean "uplink.backoff.initialMs"?',
    ],
  ];
  for (const [options, message] of cases) {
    refuses(options, TypeError, new RegExp(`^Unknown option ${escape(message)}`));
  }
});

Deno.test("createLogger() refuses a ringBytes that is not a power of two in range, never rounding it", () => {
  const range = "Option ringBytes must be a power of two from 4096 to 1073741824";
  refuses({ ringBytes: 1000 }, RangeError, `${range}, got 1000: use 262144`);
  refuses(
    { ringBytes: 300_000, limits: { maxRecordBytes: 1024 } },
    RangeError,
    `${range}, got 300000: use 524288`,
  );
  refuses({ ringBytes: 2 ** 31 }, RangeError, `${range}, got 2147483648`);
  refuses({ ringBytes: -1 }, RangeError, `${range}, got -1`);
  refuses({ ringBytes: "1MiB" }, RangeError, `${range}, got 1MiB`);
  refuses(
    { ringBytes: 4096 },
    RangeError,
    "Option ringBytes must hold four records of limits.maxRecordBytes (65536), got 4096: " +
      "use 262144 or lower limits.maxRecordBytes",
  );
});

Deno.test("createLogger() keeps a valid ringBytes as given", async () => {
  for (
    const [options, ring] of [
      [{ ringBytes: 4096, limits: { maxRecordBytes: 1024 } }, 4096],
      [{ ringBytes: 1 << 18 }, 1 << 18],
      [{}, 1 << 24],
      [{ limits: { maxRecordBytes: 1 << 24 } }, 1 << 26],
    ] as const
  ) {
    const dir = await Deno.makeTempDir();
    const log = createLogger({ dir, transport: "inline", exitHooks: false, ...options });
    try {
      assert.equal(log.stats().ring_bytes, ring, JSON.stringify(options));
    } finally {
      await log.close();
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("createLogger() refuses bad store options at once, before the store exists", async () => {
  const parent = await Deno.makeTempDir();
  const dir = `${parent}/store`;
  try {
    const cases: [unknown, string][] = [
      [
        { segmentBytes: -1 },
        "Option store.segmentBytes must be a positive integer, got -1: use a size in bytes such as 8388608",
      ],
      [{ segmentBytes: 1.5 }, "Option store.segmentBytes must be a positive integer, got 1.5"],
      [
        { maxBytes: 0 },
        "Option store.maxBytes must be a positive number, got 0: use a size in bytes, or Infinity for no limit",
      ],
      [{ maxAgeMs: NaN }, "Option store.maxAgeMs must be a positive number, got NaN"],
    ];
    for (const [store, message] of cases) {
      for (const transport of ["inline", "sab", "message"] as const) {
        assert.throws(
          () => createLogger({ dir, transport, exitHooks: false, store: store as never }),
          (err: Error) => err instanceof RangeError && err.message.startsWith(message),
          `${transport} ${JSON.stringify(store)}`,
        );
      }
    }
    refuses(
      { store: 5 },
      TypeError,
      "Option store must be an object such as { maxBytes: 268435456 }",
    );
    // Nothing started: no directory, no lock, no worker left to close.
    await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("createLogger() refuses bad uplink options at once, not in the worker", () => {
  const url = "http://127.0.0.1:4318";
  const cases: [unknown, typeof TypeError | typeof RangeError, RegExp][] = [
    [{ url: "collector:4318" }, TypeError, /^Option uplink\.url must use http or https/],
    [{ url, headers: { "x-tenant": 7 } }, TypeError, /^Option uplink\.headers must be an object/],
    [{ url, resource: "checkout" }, TypeError, /^Option uplink\.resource must be an object/],
    [
      { url, timeoutMs: Infinity },
      RangeError,
      /^Option uplink\.timeoutMs must be at most 2147483647/,
    ],
    [{ url, intervalMs: 2 ** 31 }, RangeError, /^Option uplink\.intervalMs must be at most/],
    [{ url, batchEvents: 0.5 }, RangeError, /^Option uplink\.batchEvents must be a whole number/],
    [{ url, backoff: 1000 }, TypeError, /^Option uplink\.backoff must be an object/],
    [
      { url, backoff: { maxMs: -1 } },
      RangeError,
      /^Option uplink\.backoff\.maxMs must be a positive number/,
    ],
  ];
  for (const [uplink, kind, message] of cases) {
    refuses({ transport: "sab", uplink }, kind, message);
  }
  refuses({ uplink: { url } }, TypeError, /^Option uplink needs a worker/);
});

Deno.test("createLogger() refuses bad numbers, functions and switches with their option's name", () => {
  refuses(
    { blockTimeoutMs: -1 },
    RangeError,
    "Option blockTimeoutMs must be a finite number ≥ 0, got -1",
  );
  refuses({ hungAfterMs: Infinity }, RangeError, /^Option hungAfterMs must be a finite number ≥ 0/);
  refuses({ exitTimeoutMs: "1s" }, RangeError, /^Option exitTimeoutMs must be a finite number ≥ 0/);
  refuses(
    { flushIntervalMs: 2 ** 31 },
    RangeError,
    "Option flushIntervalMs must be at most 2147483647 ms (about 24.8 days), got 2147483648",
  );
  refuses({ clock: 5 }, TypeError, "Option clock must be a function returning epoch milliseconds");
  refuses({ onDrop: "count" }, TypeError, /^Option onDrop must be a function/);
  refuses({ exitHooks: "yes" }, TypeError, "Option exitHooks must be true or false, got yes");
  refuses({ dir: "" }, TypeError, "Option dir must be a non-empty directory path string");
  refuses({ level: "loud" }, TypeError, /^Invalid option level "loud": use one of trace/);
  refuses({ overflow: "wait" }, TypeError, 'Invalid option overflow "wait": use "drop" or "block"');
  refuses({ transport: "pigeon" }, TypeError, /^Invalid option transport "pigeon"/);
});

Deno.test("createLogger() refuses bad limits, redaction and observer options with their names", () => {
  refuses({ limits: 5 }, TypeError, /^Option limits must be an object/);
  refuses(
    { limits: { maxDepth: 0 } },
    RangeError,
    "Option limits.maxDepth must be a positive integer, got 0",
  );
  refuses(
    { limits: { maxRecordBytes: 10 } },
    RangeError,
    /^Option limits\.maxRecordBytes must be between 256/,
  );
  refuses({ redact: "on" }, TypeError, /^Option redact must be true, false or an object/);
  refuses(
    { redact: { keys: "password" } },
    TypeError,
    /^Option redact\.keys must be a list of strings/,
  );
  refuses(
    { redact: { patterns: ["nope"] } },
    TypeError,
    /^Invalid option redact: unknown redaction pattern "nope"/,
  );
  refuses({ console: { format: "xml" } }, TypeError, /^Invalid option console\.format "xml"/);
  refuses(
    { console: { time: "local" as never } },
    TypeError,
    /^Invalid option console\.time "local": use "iso", "elapsed" or false$/,
  );
  refuses(
    { metrics: { serve: 9464 } },
    TypeError,
    /^Option metrics\.serve must be true, false or an object/,
  );
  refuses(
    { metrics: { serve: { port: 70000 } } },
    RangeError,
    /^Option metrics\.serve\.port must be an integer/,
  );
  refuses(
    { transport: "inline", workerUrl: "w.js" },
    TypeError,
    /^Option workerUrl needs a worker/,
  );
});

Deno.test("createLogger() accepts every option at once, with the values the suite uses", async () => {
  const dir = await Deno.makeTempDir();
  const options: Required<LoggerOptions> = {
    dir,
    level: "debug",
    ringBytes: 1 << 18,
    overflow: "drop",
    blockTimeoutMs: 0,
    onDrop: () => {},
    transport: "sab",
    limits: {
      maxStringLength: 100,
      maxDepth: 4,
      maxKeys: 8,
      maxArrayLength: 4,
      maxRecordBytes: 4096,
    },
    store: { segmentBytes: 1 << 20, maxBytes: Infinity, maxAgeMs: Infinity },
    clock: Date.now,
    exitHooks: false,
    exitTimeoutMs: 0,
    flushIntervalMs: 0,
    hungAfterMs: 0,
    redact: { keys: ["password"], extraKeys: ["pin"], patterns: ["bearer"] },
    console: false,
    metrics: { serve: false },
    sinks: [{
      module: new URL("../sinks/fixtures/file_sink.ts", import.meta.url),
      options: { out: `${dir}/sink.jsonl`, mode: "sync" },
      maxQueued: 100,
      flushTimeoutMs: 1000,
    }],
    uplink: {
      url: "http://127.0.0.1:9",
      headers: { "x-tenant": "t" },
      resource: { "service.name": "test" },
      signals: ["logs"],
      batchEvents: 10,
      batchBytes: 1 << 20,
      intervalMs: 600_000,
      maxBacklogBytes: Infinity,
      compression: "none",
      timeoutMs: 1000,
      backoff: { initialMs: 1000, maxMs: 60_000 },
    },
    workerUrl: new URL("../../workers/flightlog_worker.ts", import.meta.url),
  };
  const log = createLogger(options);
  try {
    log.debug("hello", { flow_id: "f-all", pin: "1234" });
    const events = (await log.getFlowLog("f-all")).events;
    assert.deepEqual(events.map((e) => e.fields.pin), ["[REDACTED]"]);
    assert.equal(log.stats().sinks?.[0]?.delivered, 1);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("attachLogger() checks its options with the same rules", async () => {
  const dir = await Deno.makeTempDir();
  const log = createLogger({ dir, transport: "sab", exitHooks: false });
  try {
    const handle = log.producerHandle();
    assert.throws(() => attachLogger(handle, { levle: "debug" } as never), {
      name: "TypeError",
      message: 'Unknown option "levle": did you mean "level"?',
    });
    assert.throws(() => attachLogger(handle, { blockTimeoutMs: -5 }), RangeError);
    assert.throws(() => attachLogger(handle, { clock: "now" as never }), TypeError);
    assert.throws(() => attachLogger(handle, { redact: { patterns: "all" as never } }), TypeError);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
