/**
 * Library loggers: {@linkcode getLogger} hands a library a logger by
 * category at once, which records nothing and opens nothing until the
 * application calls {@linkcode configure}; then every such logger, made
 * before or after, records into the one configured store with its category
 * in a `category` field. {@linkcode resetConfiguration} flushes and closes
 * that store, and the loggers go quiet again.
 *
 * @module
 */
import type { LevelName } from "../level.ts";
import { isCategoryName } from "./category_filter.ts";
import {
  callerEnv,
  type FlightLogger,
  type LibraryHome,
  libraryLogger,
  type Logger,
  openLogger,
} from "./logger.ts";
import { type ConfigureOptions, resolveConfig } from "./options.ts";

const unconfigured = (): LevelName => "info";

// One per process, like the getLogger() roots: a library and its application
// may import this module from different places, but share one configuration.
const home: LibraryHome = { epoch: 0, root: null, levelOf: unconfigured };
// One root per category, kept for the life of the process (categories are
// few and fixed: a module's name, not a request's).
const roots = new Map<string, FlightLogger>();
// The closing of the previous store by configure({ reset }) or resetConfiguration().
let changing: Promise<void> | null = null;

/**
 * The logger of `category` (`"my-lib.db"`, or its parts `["my-lib", "db"]`):
 * the same object for the same category, returned at once, in any module,
 * before or without {@linkcode configure}. Until the application configures
 * flightlog it records nothing and creates nothing (no store, worker, exit
 * hook or file): its level methods are no-ops, `isEnabled()` is false,
 * `flush()` and `close()` resolve, and the methods that read the store
 * (`query()`, `getFlowLog()`, `stats()`, `metrics()`, `producerHandle()`)
 * throw or reject with an `Error` that says to configure first. Its events
 * carry `category`; its `close()` only flushes, as the store is the
 * application's. Throws a `TypeError` for a category that is not
 * dot-separated names of letters, digits, `_` and `-`.
 *
 * @example A library logs without knowing where to
 * ```ts
 * import { getLogger } from "./configure.ts";
 * import assert from "node:assert/strict";
 * const log = getLogger("my-lib.db");
 * log.info("query_run", { rows: 3 }); // records nothing: not configured
 * assert.equal(log.isEnabled("fatal"), false);
 * assert.equal(getLogger(["my-lib", "db"]), log);
 * ```
 */
export function getLogger(category: string | readonly string[]): Logger {
  const name = categoryOf(category);
  let log = roots.get(name);
  if (log === undefined) {
    log = libraryLogger(home, name);
    roots.set(name, log);
  }
  return log;
}

function categoryOf(category: string | readonly string[]): string {
  if (Array.isArray(category)) {
    if (
      category.length > 0 && category.every((part) => isCategoryName(part) && !part.includes("."))
    ) {
      return category.join(".");
    }
    throw new TypeError(
      `Invalid category ${
        JSON.stringify(category)
      }: give getLogger() parts of letters, digits, _ and -, such as ["my-lib", "db"]`,
    );
  }
  if (isCategoryName(category)) return category;
  throw new TypeError(
    `Invalid category ${
      JSON.stringify(category)
    }: give getLogger() dot-separated names of letters, digits, _ and -, such as "my-lib.db"`,
  );
}

/**
 * Configures the store every {@linkcode getLogger} logger records into,
 * made before or after: `createLogger()`'s options, plus `categories` (the
 * level of each category and its sub-categories) and `reset`. The loggers
 * record from the call on; awaiting matters with `reset`, which flushes and
 * closes the store in force before opening the new one. Rejects with a
 * `TypeError` or `RangeError` naming a bad option, and with an `Error` when
 * a configuration is already in force (pass `{ reset: true }`, or call
 * {@linkcode resetConfiguration} first) or still being replaced.
 *
 * @example An application configures its libraries' loggers
 * ```ts
 * import { configure, getLogger, resetConfiguration } from "./configure.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await configure({ dir, exitHooks: false, categories: { "my-lib": "warn" } });
 * const log = getLogger("my-lib.db");
 * log.info("query_run"); // below warn: not recorded
 * log.warn("slow_query", { ms: 900 });
 * await log.flush();
 * const page = await log.query({ category: "my-lib" });
 * assert.deepEqual(page.events.map((e) => e.fields.category), ["my-lib.db"]);
 * await resetConfiguration();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function configure(options: ConfigureOptions): Promise<void> {
  if (changing !== null) {
    throw new Error(
      "configure() was called while the configuration is being replaced: await the previous configure() or resetConfiguration() first",
    );
  }
  const config = resolveConfig(options, callerEnv, "configure()");
  if (home.root !== null) {
    if (!config.reset) {
      throw new Error(
        "flightlog is already configured: pass { reset: true } to replace the configuration, or await resetConfiguration() first",
      );
    }
    await closeConfigured();
  }
  const root = openLogger(config);
  home.root = root;
  home.levelOf = (category) => config.categories.levelOf(category);
  // Every getLogger() logger takes the new store and levels at its next use.
  home.epoch++;
}

/**
 * Flushes and closes the configured store; the {@linkcode getLogger}
 * loggers then record nothing until the next {@linkcode configure}. Levels
 * assigned to them (`log.level = ...`) stay. Resolves at once when nothing
 * is configured.
 *
 * @example Flush and close at shutdown
 * ```ts
 * import { configure, getLogger, resetConfiguration } from "./configure.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await configure({ dir, exitHooks: false });
 * getLogger("my-app").info("shutdown");
 * await resetConfiguration();
 * assert.equal(getLogger("my-app").isEnabled("fatal"), false);
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function resetConfiguration(): Promise<void> {
  while (changing !== null) await changing;
  await closeConfigured();
}

async function closeConfigured(): Promise<void> {
  const root = home.root;
  if (root === null) return;
  // Quiet first, so nothing is written to a store that is closing.
  home.root = null;
  home.levelOf = unconfigured;
  home.epoch++;
  changing = root.close();
  try {
    await changing;
  } finally {
    changing = null;
  }
}
