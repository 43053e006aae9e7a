/**
 * A STAND-IN for `@std/log` 0.224.x (JSR is not reachable from our machines):
 * it reproduces the documented contract the flightlog handler relies on, and
 * nothing more. `BaseHandler(levelName, { formatter })` with `level`,
 * `levelName`, `handle(record)` (drops records below its level, then
 * `log(format(record))`), abstract `log(msg)`, `setup()`, `destroy()`,
 * `[Symbol.dispose]()`; `LogRecord` with `msg`, `args`, `datetime`, `level`,
 * `levelName`, `loggerName`; a `Logger` that makes a record per call (after
 * its own level check) and passes it to each handler's `handle()`.
 */

/** @std/log's numeric levels. */
export const LogLevels = {
  NOTSET: 0,
  DEBUG: 10,
  INFO: 20,
  WARN: 30,
  ERROR: 40,
  CRITICAL: 50,
} as const;
export type LevelName = keyof typeof LogLevels;

export class LogRecord {
  readonly msg: string;
  readonly args: unknown[];
  readonly datetime: Date;
  readonly level: number;
  readonly levelName: string;
  readonly loggerName: string;
  constructor(options: { msg: string; args: unknown[]; level: number; loggerName: string }) {
    this.msg = options.msg;
    this.args = [...options.args];
    this.level = options.level;
    this.loggerName = options.loggerName;
    this.datetime = new Date();
    this.levelName = Object.entries(LogLevels).find(([, v]) => v === options.level)?.[0] ??
      "NOTSET";
  }
}

export type FormatterFunction = (record: LogRecord) => string;

export abstract class BaseHandler {
  #levelName: LevelName;
  #level: number;
  formatter: FormatterFunction;
  constructor(levelName: LevelName, options: { formatter?: FormatterFunction } = {}) {
    this.#levelName = levelName;
    this.#level = LogLevels[levelName];
    this.formatter = options.formatter ?? ((r) => `${r.levelName} ${r.msg}`);
  }
  get level(): number {
    return this.#level;
  }
  set level(level: number) {
    this.#level = level;
  }
  get levelName(): LevelName {
    return this.#levelName;
  }
  handle(record: LogRecord): void {
    if (this.level > record.level) return;
    this.log(this.format(record));
  }
  format(record: LogRecord): string {
    return this.formatter(record);
  }
  abstract log(msg: string): void;
  setup(): void {}
  destroy(): void {}
  [Symbol.dispose](): void {
    this.destroy();
  }
}

export class Logger {
  readonly loggerName: string;
  level: number;
  handlers: BaseHandler[];
  constructor(loggerName: string, levelName: LevelName, options: { handlers?: BaseHandler[] }) {
    this.loggerName = loggerName;
    this.level = LogLevels[levelName];
    this.handlers = options.handlers ?? [];
  }
  #log(level: number, msg: string, args: unknown[]): string {
    if (this.level > level) return msg;
    const record = new LogRecord({ msg, args, level, loggerName: this.loggerName });
    for (const handler of this.handlers) handler.handle(record);
    return msg;
  }
  debug(msg: string, ...args: unknown[]): string {
    return this.#log(LogLevels.DEBUG, msg, args);
  }
  info(msg: string, ...args: unknown[]): string {
    return this.#log(LogLevels.INFO, msg, args);
  }
  warn(msg: string, ...args: unknown[]): string {
    return this.#log(LogLevels.WARN, msg, args);
  }
  error(msg: string, ...args: unknown[]): string {
    return this.#log(LogLevels.ERROR, msg, args);
  }
  critical(msg: string, ...args: unknown[]): string {
    return this.#log(LogLevels.CRITICAL, msg, args);
  }
}
