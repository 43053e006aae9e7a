import assert from "node:assert/strict";
import { describe, pageLimit, timeRange } from "../../src/query/arguments.ts";

Deno.test("timeRange() fills left-out bounds with the infinities", () => {
  assert.deepEqual(timeRange({}, "S"), { sinceMs: -Infinity, untilMs: Infinity });
  assert.deepEqual(timeRange({ since_ms: 1, until_ms: 1 }, "S"), { sinceMs: 1, untilMs: 1 });
});

Deno.test("timeRange() and pageLimit() name the subject and what to do", () => {
  const cases: [() => unknown, ErrorConstructor, RegExp][] = [
    [
      () => timeRange({ since_ms: "1" }, "S"),
      TypeError,
      /^S since_ms must be a number .* got "1"$/,
    ],
    [() => timeRange({ until_ms: NaN }, "S"), RangeError, /^S until_ms must be finite, got NaN/],
    [() => timeRange({ since_ms: 2, until_ms: 1 }, "S"), RangeError, /^S since_ms \(2\) is after/],
    [() => pageLimit([5], "S", 10, 20), TypeError, /^S limit must be a number, got an array$/],
    [() => pageLimit(21, "S", 10, 20), RangeError, /^S limit must be an integer from 1 to 20/],
    [() => pageLimit(1.5, "S", 10, 20), RangeError, /got 1\.5: page with cursor for more$/],
  ];
  for (const [call, type, message] of cases) assert.throws(call, { name: type.name, message });
});

Deno.test("pageLimit() returns the fallback or the limit given", () => {
  assert.equal(pageLimit(undefined, "S", 10, 20), 10);
  assert.equal(pageLimit(20, "S", 10, 20), 20);
});

Deno.test("describe() names a value without dumping it", () => {
  const cases: [unknown, string][] = [
    [null, "null"],
    [[1], "an array"],
    ["x", '"x"'],
    [{}, "an object"],
    [() => 0, "a function"],
    [NaN, "number NaN"],
    [undefined, "undefined undefined"],
  ];
  for (const [value, text] of cases) assert.equal(describe(value), text);
});
