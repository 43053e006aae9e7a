import assert from "node:assert/strict";
import {
  backoffDelay,
  classifyStatus,
  parseRetryAfter,
  retryDelay,
} from "../../src/uplink/policy.ts";

Deno.test("classifyStatus() retries only 429, 502, 503 and 504", () => {
  for (let status = 100; status < 600; status++) {
    const outcome = classifyStatus(status);
    if (status >= 200 && status < 300) assert.equal(outcome, "ok", String(status));
    else if ([429, 502, 503, 504].includes(status)) assert.equal(outcome, "retry", String(status));
    else if (status === 413) assert.equal(outcome, "split");
    else assert.equal(outcome, "reject", String(status));
  }
});

Deno.test("parseRetryAfter() reads seconds and HTTP dates, and refuses the rest", () => {
  const now = Date.parse("2026-11-23T06:00:00Z");
  assert.equal(parseRetryAfter("0", now), 0);
  assert.equal(parseRetryAfter(" 120 ", now), 120_000);
  assert.equal(parseRetryAfter("Mon, 23 Nov 2026 06:00:30 GMT", now), 30_000);
  assert.equal(parseRetryAfter("Mon, 23 Nov 2026 05:00:00 GMT", now), 0);
  for (const bad of [null, "", "-1", "1.5", "soon", "2026-11-23T06:00:30Z", "Mon, nonsense"]) {
    assert.equal(parseRetryAfter(bad, now), null, String(bad));
  }
});

Deno.test("backoffDelay() doubles from initialMs, stays within [50%, 100%] of the step and under maxMs", () => {
  const options = { initialMs: 1000, maxMs: 300_000 };
  for (let attempt = 1; attempt <= 64; attempt++) {
    const step = Math.min(300_000, 1000 * 2 ** (attempt - 1));
    assert.equal(backoffDelay(attempt, options, () => 0), step / 2);
    const high = backoffDelay(attempt, options, () => 0.9999999);
    assert.ok(high <= step && high > step * 0.99, `attempt ${attempt}: ${high}`);
  }
  let a = 0;
  const draws = Array.from(
    { length: 1000 },
    () => backoffDelay(5, options, () => (a++ % 100) / 100),
  );
  assert.ok(new Set(draws).size > 50, "jitter spreads the delays");
});

Deno.test("retryDelay() follows Retry-After, capped at maxMs, else backs off", () => {
  const options = { initialMs: 100, maxMs: 10_000 };
  assert.equal(retryDelay(3, 2500, options, () => 0), 2500);
  assert.equal(retryDelay(3, 0, options, () => 0), 0);
  assert.equal(retryDelay(3, 86_400_000, options, () => 0), 10_000);
  assert.equal(retryDelay(3, null, options, () => 0), 200);
});
