/**
 * Redaction of secrets: sensitive keys (case-insensitive, in nested objects,
 * arrays, Maps and Error properties) and optional value patterns (bearer
 * tokens, card numbers). A logger applies it while encoding on the calling
 * thread, so a secret never reaches the ring, the worker or the store; the
 * caller's objects are never touched.
 *
 * A key is sensitive when, lowercased and stripped of everything but letters
 * and digits, it equals or ends with one of the sensitive terms: `apiKey`,
 * `x-api-key`, `ACCESS_TOKEN` and `db_password` match; `input_tokens` and
 * `tokenizer` do not.
 *
 * @module
 */

/** The sensitive key terms used when none are configured (compared normalized). */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = Object.freeze([
  "api_key",
  "apikey",
  "access_key",
  "private_key",
  "password",
  "passwd",
  "pwd",
  "passphrase",
  "token",
  "secret",
  "authorization",
  "auth",
  "cookie",
  "set-cookie",
  "session_id",
  "credential",
  "credentials",
  "signature",
  "card_number",
  "cvv",
  "ssn",
]);

/** What replaces a redacted value or the matched part of a string. */
export const REDACTED = "[REDACTED]";

/**
 * Value patterns for {@linkcode RedactOptions.patterns}: `bearer` (an
 * `Authorization: Bearer …` credential), `card` (13–19 digits, optionally
 * grouped by spaces or dashes, passing the Luhn check), `jwt` (three
 * base64url segments starting `eyJ`).
 */
export const VALUE_PATTERNS: Readonly<{ bearer: RegExp; card: RegExp; jwt: RegExp }> = Object
  .freeze({
    bearer: /\b(?:Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi,
    card: /\b\d(?:[ -]?\d){12,18}\b/g,
    jwt: /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
  });

/** Options of {@linkcode getRedactor} (and of the logger's `redact` option). */
export interface RedactOptions {
  /**
   * The sensitive key terms, replacing the defaults.
   * @default {DEFAULT_SENSITIVE_KEYS}
   */
  keys?: readonly string[];
  /** Terms added to `keys` (or to the defaults). */
  extraKeys?: readonly string[];
  /**
   * Value patterns: `true` for all of {@linkcode VALUE_PATTERNS}, or a list
   * of their names and your own global regular expressions. Each match in a
   * string value is replaced by `[REDACTED]`. Patterns cost a scan of every
   * string value, so they are off by default.
   * @default {false}
   */
  patterns?: boolean | readonly (keyof typeof VALUE_PATTERNS | RegExp)[];
}

function normalize(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, "");
}

// Keys seen so far and whether each is sensitive; bounded so that a flow
// logging ever-new keys cannot grow it without limit.
const KEY_CACHE_MAX = 4096;

/**
 * Decides redaction. Build one with {@linkcode getRedactor}; it caches the
 * verdict per key string, so a key costs one Map lookup after its first use.
 */
export class Redactor {
  readonly #terms: readonly string[];
  readonly #cache = new Map<string, boolean>();
  readonly #patterns: readonly RegExp[];
  /** True when value patterns are configured (strings are scanned). */
  readonly hasPatterns: boolean;

  /** Normalized key terms and global value patterns; prefer {@linkcode getRedactor}. */
  constructor(terms: readonly string[], patterns: readonly RegExp[]) {
    this.#terms = terms;
    this.#patterns = patterns;
    this.hasPatterns = patterns.length > 0;
  }

  // The last four keys and their verdicts: a call site repeats the same few
  // keys, and === on them is cheaper than a Map lookup (bench/observability_gate.ts
  // "info, default sensitive keys").
  #k0 = "";
  #k1 = "";
  #k2 = "";
  #k3 = "";
  #v0 = false;
  #v1 = false;
  #v2 = false;
  #v3 = false;
  #next = 0;

  /** True when values under `key` are redacted. */
  isSensitiveKey(key: string): boolean {
    if (key === this.#k0) return this.#v0;
    if (key === this.#k1) return this.#v1;
    if (key === this.#k2) return this.#v2;
    if (key === this.#k3) return this.#v3;
    const v = this.#lookup(key);
    switch (this.#next) {
      case 0:
        this.#k0 = key;
        this.#v0 = v;
        break;
      case 1:
        this.#k1 = key;
        this.#v1 = v;
        break;
      case 2:
        this.#k2 = key;
        this.#v2 = v;
        break;
      default:
        this.#k3 = key;
        this.#v3 = v;
    }
    this.#next = (this.#next + 1) & 3;
    return v;
  }

  #lookup(key: string): boolean {
    const cache = this.#cache;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const n = normalize(key);
    let sensitive = false;
    for (const term of this.#terms) {
      if (n.endsWith(term)) {
        sensitive = true;
        break;
      }
    }
    if (cache.size >= KEY_CACHE_MAX) cache.clear();
    cache.set(key, sensitive);
    return sensitive;
  }

  // Event names and keys repeat (literals at call sites): their redacted form
  // is cached, one Map lookup instead of a scan per pattern (bench/logger_bench.ts
  // "keys + value patterns"); bounded like the key cache.
  readonly #names = new Map<string, string>();

  /** {@linkcode Redactor.redactString} of an event name or a key, cached per string. */
  redactName(s: string): string {
    const names = this.#names;
    const hit = names.get(s);
    if (hit !== undefined) return hit;
    const out = this.redactString(s);
    if (names.size >= KEY_CACHE_MAX) names.clear();
    names.set(s, out);
    return out;
  }

  /** `s` with every value-pattern match replaced by `[REDACTED]` (`s` itself if none). */
  redactString(s: string): string {
    for (const re of this.#patterns) {
      re.lastIndex = 0;
      if (re === VALUE_PATTERNS.card) {
        s = s.replace(re, (m) => luhn(m) ? REDACTED : m);
      } else {
        s = s.replace(re, REDACTED);
      }
    }
    return s;
  }

  /**
   * A redacted deep copy of `value` within `bounds`; `value` is never
   * mutated. Maps become plain objects, Sets arrays, Errors plain objects
   * with `name`, `message`, `stack` and their own properties; cycles become
   * `"[Circular]"`, functions `"[Function: name]"`.
   */
  copy(value: unknown, bounds: CopyBounds = DEFAULT_COPY_BOUNDS): unknown {
    return this.#copy(value, bounds, 0, []);
  }

  #copy(v: unknown, b: CopyBounds, depth: number, stack: unknown[]): unknown {
    switch (typeof v) {
      case "string": {
        const s = this.hasPatterns ? this.redactString(v) : v;
        return s.length > b.maxStringLength
          ? s.slice(0, b.maxStringLength) + `…[+${s.length - b.maxStringLength} chars]`
          : s;
      }
      case "function":
        return `[Function${v.name ? ": " + v.name : ""}]`;
      case "symbol":
        return `[${String(v)}]`;
      case "object":
        break;
      default:
        return v;
    }
    if (v === null || v instanceof Date) return v;
    if (stack.includes(v)) return "[Circular]";
    if (depth >= b.maxDepth) return Array.isArray(v) ? "[Array]" : "[Object]";
    stack.push(v);
    try {
      if (Array.isArray(v) || v instanceof Set) {
        const items = Array.isArray(v) ? v : Array.from(v);
        const out: unknown[] = [];
        const keep = Math.min(items.length, b.maxArrayLength);
        for (let i = 0; i < keep; i++) out.push(this.#copy(items[i], b, depth + 1, stack));
        if (items.length > keep) out.push(`[+${items.length - keep} items]`);
        return out;
      }
      const out: Record<string, unknown> = {};
      const put = (key: string, val: () => unknown) => {
        Object.defineProperty(out, this.hasPatterns ? this.redactName(key) : key, {
          value: this.isSensitiveKey(key) ? REDACTED : this.#copy(val(), b, depth + 1, stack),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      };
      let n = 0;
      let skipped = 0;
      const entries: Iterable<[unknown, unknown]> = v instanceof Map
        ? v
        : v instanceof Error
        ? errorEntries(v)
        : ownEntries(v as Record<string, unknown>);
      for (const [k, val] of entries) {
        if (n >= b.maxKeys) {
          skipped++;
          continue;
        }
        put(typeof k === "string" ? k : String(k), () => val);
        n++;
      }
      if (skipped > 0) out["…"] = `[+${skipped} keys]`;
      return out;
    } catch {
      return "[Unserializable]";
    } finally {
      stack.pop();
    }
  }
}

function* ownEntries(obj: Record<string, unknown>): Iterable<[string, unknown]> {
  for (const key of Object.keys(obj)) yield [key, obj[key]];
}

function* errorEntries(err: Error): Iterable<[string, unknown]> {
  yield ["name", err.name];
  yield ["message", err.message];
  if (typeof err.stack === "string") yield ["stack", err.stack];
  if (err.cause !== undefined) yield ["cause", err.cause];
  for (const key of Object.keys(err)) {
    if (key !== "name" && key !== "message" && key !== "stack" && key !== "cause") {
      yield [key, (err as unknown as Record<string, unknown>)[key]];
    }
  }
}

function luhn(m: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = m.length - 1; i >= 0; i--) {
    const c = m.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Bounds of {@linkcode Redactor.copy}. */
export interface CopyBounds {
  /** Characters kept of a string. */
  maxStringLength: number;
  /** Nesting depth kept. */
  maxDepth: number;
  /** Keys kept per object or Map. */
  maxKeys: number;
  /** Items kept per array or Set. */
  maxArrayLength: number;
}

/** The bounds {@linkcode Redactor.copy} uses by default. */
export const DEFAULT_COPY_BOUNDS: Readonly<CopyBounds> = Object.freeze({
  maxStringLength: 2048,
  maxDepth: 6,
  maxKeys: 64,
  maxArrayLength: 50,
});

/**
 * Builds a {@linkcode Redactor}. Throws a `TypeError` on an unknown pattern
 * name or a regular expression without the `g` flag.
 *
 * @example Redact a copy of an object
 * ```ts
 * import { getRedactor } from "./redact.ts";
 * import assert from "node:assert/strict";
 * const redactor = getRedactor({ patterns: ["bearer"] });
 * const input = { user: "ada", apiKey: "sk-1", headers: new Map([["Authorization", "x"]]),
 *   note: "sent Bearer abc.def" };
 * assert.deepEqual(redactor.copy(input), {
 *   user: "ada", apiKey: "[REDACTED]", headers: { Authorization: "[REDACTED]" },
 *   note: "sent [REDACTED]",
 * });
 * assert.equal(input.apiKey, "sk-1"); // the input is untouched
 * ```
 */
export function getRedactor(options: RedactOptions = {}): Redactor {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("getRedactor() takes an options object such as { patterns: true }");
  }
  const base = options.keys ?? DEFAULT_SENSITIVE_KEYS;
  const terms = [...base, ...(options.extraKeys ?? [])].map((t) => {
    if (typeof t !== "string" || normalize(t) === "") {
      throw new TypeError(
        `Invalid sensitive key ${JSON.stringify(t)}: use a string with letters or digits`,
      );
    }
    return normalize(t);
  });
  const patterns: RegExp[] = [];
  const p = options.patterns ?? false;
  if (p === true) patterns.push(...Object.values(VALUE_PATTERNS));
  else if (Array.isArray(p)) {
    for (const item of p) {
      if (item instanceof RegExp) {
        if (!item.global) {
          throw new TypeError(`Redaction pattern ${item} needs the g flag, such as /…/g`);
        }
        patterns.push(item);
      } else if (typeof item === "string" && Object.hasOwn(VALUE_PATTERNS, item)) {
        patterns.push(VALUE_PATTERNS[item as keyof typeof VALUE_PATTERNS]);
      } else {
        throw new TypeError(
          `Unknown redaction pattern ${JSON.stringify(item)}: use ${
            Object.keys(VALUE_PATTERNS).join(", ")
          } or a RegExp`,
        );
      }
    }
  } else if (p !== false) {
    throw new TypeError("Option patterns must be true, false or a list of names and RegExps");
  }
  return new Redactor(terms, patterns);
}

/**
 * A redacted deep copy of `value` with the default sensitive keys (or
 * `options`); `value` is never mutated.
 *
 * @example Redact before sending elsewhere
 * ```ts
 * import { redact } from "./redact.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(redact({ password: "hunter2", rows: [{ token: "t" }] }), {
 *   password: "[REDACTED]", rows: [{ token: "[REDACTED]" }],
 * });
 * ```
 */
export function redact(value: unknown, options?: RedactOptions): unknown {
  return (options === undefined ? defaultRedactor() : getRedactor(options)).copy(value);
}

let shared: Redactor | undefined;

/** The redactor of the default options, shared. */
export function defaultRedactor(): Redactor {
  return shared ??= getRedactor();
}
