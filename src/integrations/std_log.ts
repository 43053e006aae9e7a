/**
 * Interop with `@std/log` (its last release, 0.224.x): a handler that routes
 * `@std/log` records into a flightlog logger, with level mapping.
 *
 * flightlog does not import `@std/log` (JSR is not a dependency): you pass
 * your `BaseHandler` class and get back a subclass of it, so the handler is a
 * genuine `BaseHandler` to `@std/log`'s `setup()`, and type-checks against
 * your copy of it.
 *
 * @module
 */
import type { Logger } from "../front/logger.ts";
import type { Fields } from "../front/options.ts";
import type { LevelName } from "../level.ts";

/** The fields of an `@std/log` `LogRecord` that the handler reads. */
export interface StdLogRecord {
  /** The message. */
  readonly msg: string;
  /** Extra arguments of the log call. */
  readonly args: unknown[];
  /** When the record was made. */
  readonly datetime: Date;
  /** Numeric level: NOTSET 0, DEBUG 10, INFO 20, WARN 30, ERROR 40, CRITICAL 50. */
  readonly level: number;
  /** Level name, e.g. `"INFO"`. */
  readonly levelName: string;
  /** Name of the `@std/log` logger. */
  readonly loggerName: string;
}

/** What the handler needs of an `@std/log` `BaseHandler` instance. */
export interface StdBaseHandler {
  /** The least severe numeric level handled. */
  level: number;
  /** Handles one record. */
  handle(record: StdLogRecord): void;
  /** Writes a formatted message. */
  log(msg: string): void;
  /** Called by `@std/log`'s `setup()`. */
  setup(): void;
  /** Called when the handler is replaced or at exit. */
  destroy(): void;
}

/**
 * The constructor of an `@std/log` `BaseHandler` (abstract or not):
 * `new (levelName, options?)`.
 */
// deno-lint-ignore no-explicit-any
export type StdBaseHandlerClass = abstract new (...args: any[]) => StdBaseHandler;

/** Options of {@linkcode getStdLogHandler}. */
export interface StdLogHandlerOptions {
  /**
   * The event name of every record; the message then goes in a `msg` field.
   * @default {the record's message is the event name}
   */
  event?: string;
}

/**
 * Maps an `@std/log` numeric level to a flightlog level: below DEBUG (10) is
 * `trace`, then `debug`, `info` (20), `warn` (30), `error` (40), and
 * CRITICAL (50) and above `fatal`.
 *
 * @example Map levels
 * ```ts
 * import { levelOfStdLog } from "./std_log.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([0, 10, 20, 30, 40, 50].map(levelOfStdLog), [
 *   "trace", "debug", "info", "warn", "error", "fatal",
 * ]);
 * ```
 */
export function levelOfStdLog(level: number): LevelName {
  if (!(level >= 10)) return "trace";
  if (level < 20) return "debug";
  if (level < 30) return "info";
  if (level < 40) return "warn";
  if (level < 50) return "error";
  return "fatal";
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Returns a subclass of your `@std/log` `BaseHandler` that writes each record
 * it handles into `logger`: the level mapped by {@linkcode levelOfStdLog},
 * the message as the event name (or `options.event`, with the message in a
 * `msg` field), `logger` (the `@std/log` logger's name) and `std_level` as
 * fields; a single plain-object argument is spread into the fields, other
 * arguments go in an `args` field. The handler's own level (`levelName`
 * given to its constructor) filters first, as in `@std/log`. `destroy()`
 * does not close the flightlog logger. Throws a `TypeError` when
 * `BaseHandler` is not a class or `logger` not a flightlog logger.
 *
 * @example With @std/log (not run: JSR is not a dependency)
 * ```ts ignore
 * import * as stdLog from "jsr:@std/log@0.224";
 * import { createLogger, getStdLogHandler } from "../mod.ts";
 *
 * const log = createLogger();
 * const FlightlogHandler = getStdLogHandler(stdLog.BaseHandler, log);
 * stdLog.setup({
 *   handlers: { flightlog: new FlightlogHandler("DEBUG") },
 *   loggers: { default: { level: "DEBUG", handlers: ["flightlog"] } },
 * });
 * stdLog.info("user_signed_up", { user_id: 7 }); // → info "user_signed_up" { user_id: 7, logger: "default" }
 * ```
 */
export function getStdLogHandler<C extends StdBaseHandlerClass>(
  BaseHandler: C,
  logger: Logger,
  options: StdLogHandlerOptions = {},
): new (...args: ConstructorParameters<C>) => InstanceType<C> {
  if (typeof BaseHandler !== "function") {
    throw new TypeError("getStdLogHandler() takes the BaseHandler class of @std/log first");
  }
  if (logger === null || typeof logger !== "object" || typeof logger.info !== "function") {
    throw new TypeError("getStdLogHandler() takes a flightlog logger as its second argument");
  }
  const fixedEvent = options.event;
  if (fixedEvent !== undefined && (typeof fixedEvent !== "string" || fixedEvent === "")) {
    throw new TypeError("Option event must be a non-empty string");
  }
  // The abstract constructor type is the constraint users' classes satisfy;
  // the subclass below implements the abstract log().
  // deno-lint-ignore no-explicit-any
  const Base = BaseHandler as unknown as new (...args: any[]) => StdBaseHandler;
  class FlightlogHandler extends Base {
    override handle(record: StdLogRecord): void {
      if (this.level > record.level) return;
      const fields: Fields = {};
      const args = record.args;
      if (args.length === 1 && isPlainObject(args[0])) Object.assign(fields, args[0]);
      else if (args.length > 0) fields.args = args;
      fields.logger = record.loggerName;
      fields.std_level = record.levelName;
      let event = record.msg;
      if (fixedEvent !== undefined) {
        fields.msg = record.msg;
        event = fixedEvent;
      } else if (typeof event !== "string") {
        event = String(event);
      }
      logger[levelOfStdLog(record.level)](event, fields);
    }

    override log(msg: string): void {
      logger.info(fixedEvent ?? "std_log", { msg });
    }
  }
  return FlightlogHandler as unknown as new (...args: ConstructorParameters<C>) => InstanceType<C>;
}
