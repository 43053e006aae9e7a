import assert from "node:assert/strict";
import {
  configure,
  type ConfigureOptions,
  createLogger,
  getLogger,
  type LogEvent,
  type Logger,
  resetConfiguration,
} from "../../mod.ts";

// The configuration is one per process: every test leaves none behind.
async function withConfiguration(
  options: ConfigureOptions,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-configure-" });
  try {
    await configure({ transport: "inline", exitHooks: false, ...options, dir });
    await fn(dir);
  } finally {
    await resetConfiguration();
    await Deno.remove(dir, { recursive: true });
  }
}

// Reads a closed store back with a logger of its own.
async function storedEvents(dir: string): Promise<LogEvent[]> {
  const reader = createLogger({ dir, transport: "inline", exitHooks: false });
  try {
    return (await reader.query({})).events;
  } finally {
    await reader.close();
  }
}

function names(events: LogEvent[]): string[] {
  return events.map((e) => `${e.fields.category}:${e.event}`);
}

Deno.test("getLogger() before configure() records nothing and creates nothing", async () => {
  const cwd = Deno.cwd();
  const dir = await Deno.makeTempDir({ prefix: "flightlog-unconfigured-" });
  // Exit hooks are window listeners and signal listeners: watch both.
  const hooks: string[] = [];
  const addEventListener = globalThis.addEventListener;
  const addSignalListener = Deno.addSignalListener;
  globalThis.addEventListener = ((
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ) => {
    hooks.push(type);
    return addEventListener.call(globalThis, type, listener, options);
  }) as typeof globalThis.addEventListener;
  Deno.addSignalListener = (signal, handler) => {
    hooks.push(signal);
    return addSignalListener.call(Deno, signal, handler);
  };
  Deno.chdir(dir);
  try {
    const log = getLogger("quiet-lib.db");
    assert.equal(getLogger(["quiet-lib", "db"]), log);
    const child = log.child({ flow_id: "f-1" });
    const before = getLogger("quiet-lib.http").child({}, { level: "trace" });
    for (const l of [log, child, before]) {
      for (const method of [l.trace, l.debug, l.info, l.warn, l.error, l.fatal]) {
        assert.equal(method, getLogger("quiet-lib").trace, "the shared no-op");
      }
      l.fatal("nothing", { n: 1 });
      assert.equal(l.isEnabled("fatal"), false);
      await l.flush();
      await l.close();
    }
    assert.equal(log.metricsUrl(), null);
    await assert.rejects(log.query(), {
      name: "Error",
      message:
        "query() needs a configured store: the application calls configure({ dir }) before using this getLogger() logger",
    });
    await assert.rejects(log.getFlowLog("f-1"), /getFlowLog\(\) needs a configured store/);
    assert.throws(() => log.stats(), /stats\(\) needs a configured store/);
    assert.throws(() => log.producerHandle(), /producerHandle\(\) needs a configured store/);
    assert.deepEqual([...Deno.readDirSync(".")], []);
    assert.equal(hooks.join(), "");
    // The same watch sees what a configuration installs: it is not blind.
    await configure({ transport: "inline" });
    try {
      assert.ok(hooks.includes("unload"), hooks.join());
      assert.deepEqual([...Deno.readDirSync(".")].map((e) => e.name), [".flightlog"]);
      before.trace("now_recorded");
      await log.flush();
      assert.deepEqual(names((await log.query({})).events), ["quiet-lib.http:now_recorded"]);
    } finally {
      await resetConfiguration();
    }
  } finally {
    globalThis.addEventListener = addEventListener;
    Deno.addSignalListener = addSignalListener;
    Deno.chdir(cwd);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configure() makes every getLogger() logger, made before or after, record into one store with its category", async () => {
  const early = getLogger("app-a.db");
  const earlyChild = early.child({ flow_id: "f-1" });
  await withConfiguration({ level: "info", transport: "sab" }, async (dir) => {
    const late = getLogger(["app-a", "http"]);
    early.info("early");
    earlyChild.info("early_child");
    late.info("late");
    late.child({ flow_id: "f-2" }).warn("late_child");
    late.debug("below_level");
    await late.flush();
    const events = (await early.query({})).events;
    assert.deepEqual(names(events), [
      "app-a.db:early",
      "app-a.db:early_child",
      "app-a.http:late",
      "app-a.http:late_child",
    ]);
    assert.deepEqual(events[1]!.fields, { category: "app-a.db", flow_id: "f-1" });
    // One store: the configured directory holds it.
    await resetConfiguration();
    assert.deepEqual(names(await storedEvents(dir)), names(events));
  });
});

Deno.test("configure() categories: the longest matching prefix by parts wins, else level", async () => {
  const categories = { "lvl-lib": "warn", "lvl-lib.db": "debug" } as const;
  await withConfiguration({ level: "error", categories }, async () => {
    const cases: [string, string][] = [
      ["lvl-lib", "warn"],
      ["lvl-lib.db", "debug"],
      ["lvl-lib.db.pool", "debug"],
      ["lvl-lib.http", "warn"],
      ["lvl-library", "error"],
      ["other", "error"],
    ];
    for (const [category, level] of cases) {
      const log = getLogger(category);
      assert.equal(log.level, level, category);
      log.debug("d");
      log.info("i");
      log.warn("w");
      log.error("e");
    }
    await getLogger("other").flush();
    const events = (await getLogger("other").query({})).events;
    assert.deepEqual(names(events), [
      "lvl-lib:w",
      "lvl-lib:e",
      "lvl-lib.db:d",
      "lvl-lib.db:i",
      "lvl-lib.db:w",
      "lvl-lib.db:e",
      "lvl-lib.db.pool:d",
      "lvl-lib.db.pool:i",
      "lvl-lib.db.pool:w",
      "lvl-lib.db.pool:e",
      "lvl-lib.http:w",
      "lvl-lib.http:e",
      "lvl-library:e",
      "other:e",
    ]);
  });
});

Deno.test("query({ category }) matches the category and those below it by whole parts", async () => {
  await withConfiguration({}, async () => {
    for (const category of ["q-lib", "q-lib.db", "q-lib.db.pool", "q-library", "q-lib-x", "q"]) {
      getLogger(category).info("e");
    }
    const log = getLogger("q");
    await log.flush();
    const of = async (category: string) =>
      (await log.query({ category })).events.map((e) => e.fields.category);
    assert.deepEqual(await of("q-lib"), ["q-lib", "q-lib.db", "q-lib.db.pool"]);
    assert.deepEqual(await of("q-lib.db"), ["q-lib.db", "q-lib.db.pool"]);
    assert.deepEqual(await of("q"), ["q"]);
    assert.deepEqual(await of("q-lib.d"), []);
    await assert.rejects(log.query({ category: "" }), TypeError);
    await assert.rejects(log.query({ category: 1 as never }), TypeError);
  });
});

Deno.test("configure() twice rejects unless { reset: true }, which flushes and closes the first store", async () => {
  const log = getLogger("twice-lib");
  const second = await Deno.makeTempDir({ prefix: "flightlog-configure-" });
  try {
    await withConfiguration({}, async (first) => {
      log.info("into_first");
      await assert.rejects(configure({ dir: second, transport: "inline", exitHooks: false }), {
        name: "Error",
        message:
          "flightlog is already configured: pass { reset: true } to replace the configuration, or await resetConfiguration() first",
      });
      log.info("still_first");
      await configure({ dir: second, transport: "inline", exitHooks: false, reset: true });
      log.info("into_second");
      await log.flush();
      assert.deepEqual(names((await log.query({})).events), ["twice-lib:into_second"]);
      // The first store was flushed and closed: a new logger may open it.
      assert.deepEqual(names(await storedEvents(first)), [
        "twice-lib:into_first",
        "twice-lib:still_first",
      ]);
    });
  } finally {
    await Deno.remove(second, { recursive: true });
  }
});

Deno.test("resetConfiguration() flushes and closes; getLogger() loggers go quiet again", async () => {
  const log = getLogger("reset-lib");
  const child = log.child({ flow_id: "f-1" });
  const info = log.info;
  await withConfiguration({}, async (dir) => {
    assert.equal(log.isEnabled("info"), true);
    log.info("last");
    child.info("last_child");
    await resetConfiguration();
    assert.equal(log.isEnabled("fatal"), false);
    assert.equal(child.isEnabled("fatal"), false);
    assert.equal(log.info, log.trace, "the shared no-op again");
    log.fatal("after_reset");
    // A method kept from before the reset drops into the closed store, never throws.
    info("kept_method");
    await assert.rejects(log.query({}), /needs a configured store/);
    assert.deepEqual(names(await storedEvents(dir)), ["reset-lib:last", "reset-lib:last_child"]);
    await resetConfiguration(); // nothing configured: resolves
  });
});

Deno.test("getLogger() loggers take a run-time level, before or after configure()", async () => {
  const log: Logger = getLogger("rt-lib");
  log.level = "debug"; // before: kept, and it wins over the categories rule
  await withConfiguration({ categories: { "rt-lib": "error" } }, async () => {
    const child = log.child({ flow_id: "f" });
    assert.equal(log.level, "debug");
    log.debug("d1");
    log.level = "warn";
    child.info("hidden");
    child.warn("w");
    await log.flush();
    assert.deepEqual(names((await log.query({})).events), ["rt-lib:d1", "rt-lib:w"]);
  });
});

Deno.test("configure() and getLogger() reject bad options with the name to use", async () => {
  const bad: [unknown, RegExp][] = [
    [{ categoris: {} }, /^Unknown option "categoris": did you mean "categories"\?$/],
    [
      { categories: { "my-lib": "verbose" } },
      /^Invalid level "verbose" for category "my-lib" in option categories: use one of trace, /,
    ],
    [{ categories: { "my lib": "warn" } }, /^Invalid category "my lib" in option categories/],
    [{ categories: { "*": "warn" } }, /option level sets the default/],
    [{ categories: ["warn"] }, /^Option categories must be an object of category levels/],
    [{ reset: "yes" }, /^Option reset must be true or false, got yes$/],
    [null, /^configure\(\) takes an options object/],
  ];
  for (const [options, message] of bad) {
    await assert.rejects(configure(options as ConfigureOptions), { name: "TypeError", message });
  }
  assert.throws(() => createLogger({ categories: {} } as never), {
    name: "TypeError",
    message:
      "Option categories is one of configure(), for getLogger() loggers: createLogger() takes none",
  });
  for (const category of ["", "a..b", "a.", "my lib", ["a.b"], [], ["a", ""], 7]) {
    assert.throws(() => getLogger(category as never), TypeError, JSON.stringify(category));
  }
  // Nothing was configured by the failures.
  assert.equal(getLogger("opts-lib").isEnabled("fatal"), false);
});
