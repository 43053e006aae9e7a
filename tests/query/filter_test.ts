import assert from "node:assert/strict";
import fc from "fast-check";
import {
  compileFilter,
  compileGlob,
  decodeCursor,
  DEFAULT_LIMIT,
  encodeCursor,
  MAX_LIMIT,
} from "../../src/query/filter.ts";
import type { LogEvent } from "../../src/event.ts";
import type { QueryFilter } from "../../src/query/types.ts";
import { makeEvent } from "../support/log_event.ts";

function event(overrides: Partial<LogEvent> = {}, fields: Record<string, unknown> = {}): LogEvent {
  const base = { flow_id: "f1", run_id: "r1", node: "retriever", status: "ok", attempt: 2 };
  return makeEvent(100, { ...base, ...fields }, { seq: 1, ...overrides });
}

Deno.test("compileFilter() matches each criterion", () => {
  const e = event();
  const cases: [QueryFilter, boolean][] = [
    [{}, true],
    [{ flow_id: "f1" }, true],
    [{ flow_id: "f2" }, false],
    [{ run_id: "r1" }, true],
    [{ run_id: "r2" }, false],
    [{ level: "info" }, true],
    [{ level: "trace" }, true],
    [{ level: "warn" }, false],
    [{ event: "step_end" }, true],
    [{ event: "step_*" }, true],
    [{ event: "*_end" }, true],
    [{ event: "step?end" }, true],
    [{ event: "step" }, false],
    [{ event: "run_*" }, false],
    [{ node: "retr*" }, true],
    [{ node: "writer" }, false],
    [{ since_ms: 100 }, true],
    [{ since_ms: 100.5 }, false],
    [{ until_ms: 100 }, false],
    [{ until_ms: 100.5 }, true],
    [{ since_ms: 50, until_ms: 150 }, true],
    [{ where: { status: "ok" } }, true],
    [{ where: { status: "ok", attempt: 2 } }, true],
    [{ where: { attempt: "2" } }, false],
    [{ where: { missing: null } }, false],
    [{ where: { constructor: "x" } }, false],
    [{ flow_id: "f1", level: "info", event: "step_*", node: "*", where: { status: "ok" } }, true],
  ];
  for (const [filter, expected] of cases) {
    assert.equal(compileFilter(filter).matches(e), expected, JSON.stringify(filter));
  }
});

Deno.test("compileFilter() matches a category and those below it by whole parts", () => {
  const filter = compileFilter({ category: "my-lib" });
  const of = (category: unknown) => filter.matches(event({}, { category }));
  assert.ok(of("my-lib"));
  assert.ok(of("my-lib.db"));
  assert.ok(of("my-lib.db.pool"));
  assert.ok(!of("my-library"));
  assert.ok(!of("my-lib-x.db"));
  assert.ok(!of("my"));
  assert.ok(!of(undefined));
  assert.ok(!of(7));
  // Cursors of queries without a category keep their fingerprint.
  assert.equal(compileFilter({ level: "warn" }).fingerprint, "betj0b");
  assert.notEqual(compileFilter({ category: "a" }).fingerprint, compileFilter({}).fingerprint);
});

Deno.test("compileFilter() matches a null field value and ignores a missing node", () => {
  assert.ok(compileFilter({ where: { parent: null } }).matches(event({}, { parent: null })));
  assert.ok(!compileFilter({ node: "*" }).matches(event({}, { node: 5 })));
});

Deno.test("compileFilter() keeps events whose ts_ms is NaN unless time is filtered", () => {
  assert.ok(compileFilter({}).matches(event({ ts_ms: NaN })));
  assert.ok(!compileFilter({ since_ms: 0 }).matches(event({ ts_ms: NaN })));
});

Deno.test("compileFilter() defaults and bounds limit", () => {
  assert.equal(compileFilter({}).limit, DEFAULT_LIMIT);
  assert.equal(compileFilter({ limit: 1 }).limit, 1);
  assert.equal(compileFilter({ limit: MAX_LIMIT }).limit, MAX_LIMIT);
  for (const limit of [0, -1, 1.5, MAX_LIMIT + 1, NaN, Infinity]) {
    assert.throws(() => compileFilter({ limit }), RangeError, String(limit));
  }
  assert.throws(
    () => compileFilter({ limit: "10" as unknown as number }),
    TypeError,
  );
});

Deno.test("compileFilter() throws errors that say what is wrong and what to do", () => {
  const bad: [unknown, ErrorConstructor, RegExp][] = [
    [null, TypeError, /must be an object, got null/],
    [{ flow: "x" }, TypeError, /Unknown query filter key "flow": use flow_id, run_id/],
    [{ flow_id: 5 }, TypeError, /flow_id must be a string, got number 5/],
    [{ level: "loud" }, TypeError, /Invalid query filter level "loud": use one of trace/],
    [{ event: ["a"] }, TypeError, /event must be a string, got an array/],
    [{ since_ms: "1" }, TypeError, /since_ms must be a number of epoch milliseconds/],
    [{ until_ms: NaN }, RangeError, /until_ms must be finite, got NaN: leave it out/],
    [{ since_ms: 5, until_ms: 1 }, RangeError, /since_ms \(5\) is after until_ms \(1\): swap/],
    [{ where: "x" }, TypeError, /where must be an object of field values/],
    [{ where: { a: {} } }, TypeError, /where.a must be a string, number, boolean or null/],
    [{ where: { a: NaN } }, RangeError, /where.a is NaN, which equals nothing/],
    [{ limit: 0 }, RangeError, /limit must be an integer from 1 to 100000, got 0/],
    [{ cursor: "@@" }, TypeError, /Invalid query cursor: pass the cursor string/],
    [{ cursor: 5 }, TypeError, /cursor must be a string/],
  ];
  for (const [filter, type, message] of bad) {
    assert.throws(() => compileFilter(filter as QueryFilter), (error: unknown) => {
      assert.ok(error instanceof type, `${JSON.stringify(filter)}: ${error}`);
      assert.match((error as Error).message, message);
      assert.ok(!(error as Error).message.endsWith("."));
      return true;
    });
  }
});

Deno.test("compileGlob() treats only * and ? as wildcards", () => {
  assert.ok(compileGlob("a.b").test("a.b"));
  assert.ok(!compileGlob("a.b").test("axb"));
  assert.ok(compileGlob("(x)[y]{1}+$^|\\/").test("(x)[y]{1}+$^|\\/"));
  assert.ok(compileGlob("*").test(""));
  assert.ok(compileGlob("a*").test("a\nb"));
  assert.ok(compileGlob("?").test("\u{1F600}"));
  assert.ok(!compileGlob("?").test(""));
  assert.ok(compileGlob("a-b").test("a-b"));
  assert.ok(!compileGlob("ab").test("xab"));
});

Deno.test("compileGlob() matches a literal string exactly", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme-composite" }), (text) => {
      const literal = text.replaceAll("*", "").replaceAll("?", "");
      assert.ok(compileGlob(literal).test(literal));
      assert.ok(!compileGlob(literal).test(literal + "x"));
    }),
  );
});

Deno.test("encodeCursor() and decodeCursor() round-trip positions", () => {
  fc.assert(
    fc.property(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string(),
      fc.nat(),
      fc.nat(),
      fc.nat(),
      (ts_ms, producer, seq, record, index) => {
        const position = { ts_ms: ts_ms === 0 ? 0 : ts_ms, producer, seq, record, index };
        const cursor = encodeCursor(position, "fp");
        assert.match(cursor, /^[A-Za-z0-9_-]*$/);
        assert.deepEqual(decodeCursor(cursor, "fp"), position);
      },
    ),
  );
});

Deno.test("compileFilter() rejects a cursor of a query with other criteria", () => {
  const fingerprint = compileFilter({ flow_id: "a" }).fingerprint;
  const cursor = encodeCursor(
    { ts_ms: 1, producer: "p", seq: 1, record: 1, index: 0 },
    fingerprint,
  );
  assert.equal(compileFilter({ flow_id: "a", cursor, limit: 5 }).after?.ts_ms, 1);
  assert.throws(() => compileFilter({ flow_id: "b", cursor }), RangeError);
  assert.equal(
    compileFilter({ where: { a: 1, b: 2 } }).fingerprint,
    compileFilter({ where: { b: 2, a: 1 } }).fingerprint,
  );
});
