import assert from "node:assert/strict";
import { createLogger, type Logger } from "../../mod.ts";
import { withLogger } from "../support/test_logger.ts";

const INLINE = { transport: "inline" } as const;

async function recorded(log: Logger): Promise<string[]> {
  await log.flush();
  const page = await log.query({});
  return page.events.map((e) => `${e.fields.who ?? "root"}:${e.event}`);
}

Deno.test("Logger.level = name changes what the logger records at once, and isEnabled() agrees", async () => {
  await withLogger(INLINE, async (log) => {
    assert.equal(log.level, "info");
    log.debug("before");
    log.level = "debug";
    assert.equal(log.level, "debug");
    assert.equal(log.isEnabled("debug"), true);
    assert.equal(log.isEnabled("trace"), false);
    log.debug("after");
    log.trace("hidden");
    log.level = "error";
    assert.equal(log.isEnabled("warn"), false);
    assert.equal(log.isEnabled("error"), true);
    log.warn("quiet");
    log.error("loud");
    assert.deepEqual(await recorded(log), ["root:after", "root:loud"]);
  });
});

Deno.test("Logger.level = name keeps disabled levels the one shared no-op", async () => {
  await withLogger(INLINE, async (log, dir) => {
    const other = createLogger({ dir: `${dir}/other`, transport: "inline", exitHooks: false });
    await other.close();
    // trace is off in both loggers: the same function object, whatever the logger.
    assert.equal(log.trace, other.trace);
    assert.equal(log.debug, log.trace);
    log.level = "trace";
    assert.notEqual(log.debug, other.trace);
    assert.notEqual(log.trace, other.trace);
    log.level = "fatal";
    for (const method of [log.trace, log.debug, log.info, log.warn, log.error]) {
      assert.equal(method, other.trace);
    }
    assert.notEqual(log.fatal, other.trace);
  });
});

Deno.test("Logger.level = name is followed by the children that have no level of their own", async () => {
  await withLogger(INLINE, async (log) => {
    const follows = log.child({ who: "follows" });
    const grandchild = follows.child({ who: "grandchild" });
    const own = log.child({ who: "own" }, { level: "warn" });
    const ownChild = own.child({ who: "own-child" });
    log.level = "debug";
    const later = log.child({ who: "later" });
    assert.equal(follows.level, "debug");
    assert.equal(grandchild.isEnabled("debug"), true);
    assert.equal(own.level, "warn");
    assert.equal(ownChild.level, "warn");
    for (const l of [follows, grandchild, own, ownChild, later]) l.debug("d");
    // A child given a level by assignment stops following its parent.
    follows.level = "error";
    log.level = "trace";
    assert.equal(follows.level, "error");
    assert.equal(grandchild.level, "error");
    assert.equal(later.level, "trace");
    follows.warn("w");
    grandchild.warn("w");
    later.trace("t");
    assert.deepEqual(await recorded(log), [
      "follows:d",
      "grandchild:d",
      "later:d",
      "later:t",
    ]);
  });
});

Deno.test("Logger.level = name throws a TypeError naming the levels for anything else", async () => {
  await withLogger(INLINE, async (log) => {
    for (const bad of ["verbose", "INFO", "", 9, null, undefined]) {
      assert.throws(() => {
        log.level = bad as never;
      }, {
        name: "TypeError",
        message: `Invalid level ${
          JSON.stringify(String(bad))
        }: use one of trace, debug, info, warn, error, fatal`,
      });
    }
    assert.equal(log.level, "info");
    log.info("still_info");
    log.debug("still_not_debug");
    assert.deepEqual(await recorded(log), ["root:still_info"]);
  });
});
