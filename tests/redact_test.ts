import assert from "node:assert/strict";
import { getRedactor, redact, REDACTED } from "../src/redact.ts";

Deno.test("Redactor.isSensitiveKey() matches the default terms case-insensitively", () => {
  const r = getRedactor();
  for (
    const key of [
      "api_key",
      "apiKey",
      "X-API-KEY",
      "password",
      "DB_PASSWORD",
      "token",
      "access_token",
      "refreshToken",
      "client_secret",
      "Authorization",
      "proxy-authorization",
      "cookie",
      "Set-Cookie",
      "private_key",
      "oauth",
    ]
  ) {
    assert.equal(r.isSensitiveKey(key), true, key);
  }
  for (
    const key of ["input_tokens", "max_tokens", "tokenizer", "author", "user", "node", "status"]
  ) {
    assert.equal(r.isSensitiveKey(key), false, key);
  }
});

Deno.test("getRedactor() takes configured keys, extra keys and patterns", () => {
  const only = getRedactor({ keys: ["ssn"] });
  assert.equal(only.isSensitiveKey("password"), false);
  assert.equal(only.isSensitiveKey("user_ssn"), true);
  const extra = getRedactor({ extraKeys: ["phone"] });
  assert.equal(extra.isSensitiveKey("phone"), true);
  assert.equal(extra.isSensitiveKey("password"), true);
  assert.throws(() => getRedactor({ keys: ["--"] }), TypeError);
  assert.throws(() => getRedactor({ patterns: ["nope" as "card"] }), /Unknown redaction pattern/);
  assert.throws(() => getRedactor({ patterns: [/x/] }), /g flag/);
});

Deno.test("Redactor.redactString() replaces bearer tokens, JWTs and Luhn-valid card numbers", () => {
  const r = getRedactor({ patterns: true });
  assert.equal(r.redactString("Authorization: Bearer abc.DEF-123="), `Authorization: ${REDACTED}`);
  assert.equal(r.redactString("card 4111 1111 1111 1111 ok"), `card ${REDACTED} ok`);
  assert.equal(r.redactString("order 1234 5678 9012 3456"), "order 1234 5678 9012 3456");
  assert.equal(r.redactString("t=eyJhbGciOi.eyJzdWIiOi.sig"), `t=${REDACTED}`);
  assert.equal(getRedactor().redactString("Bearer abc"), "Bearer abc");
});

Deno.test("redact() copies nested objects, arrays, Maps, Sets and Errors without mutating them", () => {
  const err = Object.assign(new Error("failed"), { token: "t-1", code: "E1" });
  const input = {
    user: { name: "ada", password: "p" },
    list: [{ secret: "s" }, "plain"],
    headers: new Map<string, unknown>([["Cookie", "c"], ["accept", "json"]]),
    tags: new Set(["a"]),
    err,
  };
  const before = structuredClone({ ...input, err: undefined });
  const out = redact(input) as Record<string, Record<string, unknown>>;
  assert.deepEqual(out.user, { name: "ada", password: REDACTED });
  assert.deepEqual(out.list, [{ secret: REDACTED }, "plain"]);
  assert.deepEqual(out.headers, { Cookie: REDACTED, accept: "json" });
  assert.deepEqual(out.tags, ["a"]);
  assert.equal(out.err?.token, REDACTED);
  assert.equal(out.err?.code, "E1");
  assert.equal(out.err?.message, "failed");
  assert.deepEqual({ ...input, err: undefined }, before);
  assert.equal(err.token, "t-1");
});

Deno.test("Redactor.copy() bounds depth, keys, items and strings and survives cycles", () => {
  const r = getRedactor();
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.deepEqual(r.copy(cyclic), { a: 1, self: "[Circular]" });
  const bounds = { maxDepth: 2, maxKeys: 2, maxArrayLength: 2, maxStringLength: 3 };
  assert.deepEqual(r.copy({ a: { b: { c: 1 } }, s: "abcdef", x: 1 }, bounds), {
    a: { b: "[Object]" },
    s: "abc…[+3 chars]",
    "…": "[+1 keys]",
  });
  assert.deepEqual(r.copy([1, 2, 3, 4], bounds), [1, 2, "[+2 items]"]);
  assert.equal(r.copy(function named() {}), "[Function: named]");
});

Deno.test("Redactor.copy() applies value patterns to keys, and redactName() caches per name", () => {
  const redactor = getRedactor({ patterns: ["bearer"] });
  const copy = redactor.copy({ "sent Bearer abc123": 1, m: new Map([["Bearer xyz", 2]]) });
  assert.deepEqual(copy, { "sent [REDACTED]": 1, m: { "[REDACTED]": 2 } });
  assert.equal(redactor.redactName("Bearer abc"), "[REDACTED]");
  assert.equal(redactor.redactName("Bearer abc"), "[REDACTED]");
  assert.equal(redactor.redactName("plain_name"), "plain_name");
  // Without patterns keys are copied as written.
  assert.deepEqual(getRedactor().copy({ "Bearer abc": 1 }), { "Bearer abc": 1 });
});
