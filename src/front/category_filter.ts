/**
 * Per-category level filters such as `"llm=debug,http=info"`, with
 * hierarchical categories: a rule for `llm` applies to `llm.openai` unless a
 * rule for `llm.openai` says otherwise.
 *
 * @module
 */
import { isLevelName, type LevelName, SEVERITY } from "../level.ts";

const CATEGORY = /^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$/;

/**
 * True when `name` is a category: dot-separated parts of letters, digits,
 * `_` and `-` (`my-lib.db`).
 *
 * @example Check a category
 * ```ts
 * import { isCategoryName } from "./category_filter.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isCategoryName("my-lib.db"));
 * assert.ok(!isCategoryName("my-lib..db"));
 * ```
 */
export function isCategoryName(name: unknown): name is string {
  return typeof name === "string" && CATEGORY.test(name);
}

/** Decides the least severe level recorded for a category. */
export interface CategoryFilter {
  /** The least severe level recorded for `category` (its most specific rule, else the default). */
  levelOf(category: string): LevelName;
  /** True when an event of `level` in `category` is recorded. */
  isEnabled(category: string, level: LevelName): boolean;
  /** The rules, most specific first (for display). */
  readonly rules: ReadonlyArray<readonly [string, LevelName]>;
}

/**
 * Parses a filter spec: comma-separated `category=level` rules; a bare
 * level or `*=level` sets the default. Categories are dot-separated names.
 * Throws a `TypeError` whose message names the bad rule.
 *
 * @example Debug for LLM calls, info for HTTP, warn elsewhere
 * ```ts
 * import { getCategoryFilter } from "./category_filter.ts";
 * import assert from "node:assert/strict";
 * const filter = getCategoryFilter("llm=debug,http=info,llm.embeddings=warn,*=warn");
 * assert.equal(filter.levelOf("llm.openai"), "debug");
 * assert.equal(filter.levelOf("llm.embeddings.batch"), "warn");
 * assert.equal(filter.levelOf("http"), "info");
 * assert.equal(filter.levelOf("tool"), "warn");
 * assert.equal(filter.isEnabled("http.get", "debug"), false);
 * ```
 */
export function getCategoryFilter(
  spec: string | Record<string, LevelName>,
  defaultLevel: LevelName = "trace",
): CategoryFilter {
  const rules = new Map<string, LevelName>();
  let fallback = defaultLevel;
  const add = (category: string, level: string, rule: string) => {
    if (!isLevelName(level)) {
      throw new TypeError(
        `Invalid level in category rule ${
          JSON.stringify(rule)
        }: use trace, debug, info, warn, error or fatal`,
      );
    }
    if (category === "*" || category === "") fallback = level;
    else if (isCategoryName(category)) rules.set(category, level);
    else {
      throw new TypeError(
        `Invalid category in rule ${
          JSON.stringify(rule)
        }: use dot-separated names such as llm.openai`,
      );
    }
  };
  if (typeof spec === "string") {
    for (const raw of spec.split(",")) {
      const rule = raw.trim();
      if (rule === "") continue;
      const eq = rule.indexOf("=");
      if (eq < 0) add("*", rule, rule);
      else add(rule.slice(0, eq).trim(), rule.slice(eq + 1).trim(), rule);
    }
  } else if (typeof spec === "object" && spec !== null) {
    for (const [category, level] of Object.entries(spec)) {
      add(category, level, `${category}=${level}`);
    }
  } else {
    throw new TypeError('getCategoryFilter() takes a spec such as "llm=debug,http=info"');
  }
  const cache = new Map<string, LevelName>();
  const levelOf = (category: string): LevelName => {
    const hit = cache.get(category);
    if (hit !== undefined) return hit;
    let found: LevelName = fallback;
    for (let c = category;;) {
      const level = rules.get(c);
      if (level !== undefined) {
        found = level;
        break;
      }
      const dot = c.lastIndexOf(".");
      if (dot < 0) break;
      c = c.slice(0, dot);
    }
    if (cache.size < 1024) cache.set(category, found);
    return found;
  };
  const sorted = [...rules].sort((a, b) => b[0].split(".").length - a[0].split(".").length);
  return {
    levelOf,
    isEnabled: (category, level) => SEVERITY[level] >= SEVERITY[levelOf(category)],
    rules: sorted,
  };
}
