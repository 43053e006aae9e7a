import assert from "node:assert/strict";
import { createLogger } from "../../mod.ts";
import { getStdLogHandler, levelOfStdLog } from "../../src/integrations/std_log.ts";
// A stand-in for @std/log 0.224 reproducing its documented handler contract;
// tests/integrations/std_log_real_test.ts runs this file again with the real @std/log in its place.
import * as stdLogStandIn from "../support/std_log_stand_in.ts";

Deno.test("getStdLogHandler() routes @std/log records with level mapping", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-stdlog-" });
  const log = createLogger({ dir, transport: "inline", exitHooks: false, level: "debug" });
  try {
    const FlightlogHandler = getStdLogHandler(
      stdLogStandIn.BaseHandler,
      log.child({ flow_id: "f-std" }),
    );
    const handler = new FlightlogHandler("INFO");
    assert.ok(handler instanceof stdLogStandIn.BaseHandler, "a genuine BaseHandler subclass");
    handler.setup();
    const std = new stdLogStandIn.Logger("app", "DEBUG", { handlers: [handler] });
    std.debug("below the handler's level");
    std.info("user_signed_up", { user_id: 7, password: "hunter2" });
    std.warn("slow", 1, "two");
    std.error("failed");
    std.critical("down");
    handler.log("direct");
    handler.destroy();
    await log.flush();
    const events = (await log.getFlowLog("f-std")).events;
    assert.deepEqual(events.map((e) => [e.event, e.level]), [
      ["user_signed_up", "info"],
      ["slow", "warn"],
      ["failed", "error"],
      ["down", "fatal"],
      ["std_log", "info"],
    ]);
    assert.deepEqual(events[0]!.fields, {
      flow_id: "f-std",
      user_id: 7,
      password: "[REDACTED]",
      logger: "app",
      std_level: "INFO",
    });
    assert.deepEqual(events[1]!.fields.args, [1, "two"]);
    assert.equal(events[4]!.fields.msg, "direct");
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("getStdLogHandler() with a fixed event name puts the message in msg", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-stdlog-" });
  const log = createLogger({ dir, transport: "inline", exitHooks: false });
  try {
    const H = getStdLogHandler(stdLogStandIn.BaseHandler, log.child({ flow_id: "f-fixed" }), {
      event: "app_log",
    });
    new stdLogStandIn.Logger("svc", "INFO", { handlers: [new H("DEBUG")] }).info("hello world");
    await log.flush();
    const [event] = (await log.getFlowLog("f-fixed")).events;
    assert.deepEqual([event?.event, event?.fields.msg, event?.fields.logger], [
      "app_log",
      "hello world",
      "svc",
    ]);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("getStdLogHandler() refuses a non-class or a non-logger with a TypeError", () => {
  const fake = { info() {} } as unknown as Parameters<typeof getStdLogHandler>[1];
  assert.throws(
    () => getStdLogHandler(5 as unknown as typeof stdLogStandIn.BaseHandler, fake),
    /BaseHandler/,
  );
  assert.throws(
    () => getStdLogHandler(stdLogStandIn.BaseHandler, null as unknown as typeof fake),
    /logger/,
  );
  assert.equal(levelOfStdLog(Number.NaN), "trace");
  assert.equal(levelOfStdLog(25), "info");
});
