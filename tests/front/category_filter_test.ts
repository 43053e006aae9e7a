import assert from "node:assert/strict";
import { getCategoryFilter } from "../../src/front/category_filter.ts";

Deno.test("getCategoryFilter() applies the most specific rule of a hierarchy", () => {
  const f = getCategoryFilter("llm=debug, http=info, llm.embeddings=error, warn");
  assert.equal(f.levelOf("llm"), "debug");
  assert.equal(f.levelOf("llm.openai.chat"), "debug");
  assert.equal(f.levelOf("llm.embeddings"), "error");
  assert.equal(f.levelOf("llm.embeddings.batch"), "error");
  assert.equal(f.levelOf("llmx"), "warn");
  assert.equal(f.levelOf("http"), "info");
  assert.equal(f.isEnabled("http", "debug"), false);
  assert.equal(f.isEnabled("llm.openai", "debug"), true);
  assert.equal(f.rules[0]?.[0], "llm.embeddings");
});

Deno.test("getCategoryFilter() takes an object and a default level", () => {
  const f = getCategoryFilter({ tool: "warn" }, "info");
  assert.equal(f.levelOf("tool.search"), "warn");
  assert.equal(f.levelOf("other"), "info");
});

Deno.test("getCategoryFilter() throws a TypeError naming a bad rule", () => {
  assert.throws(() => getCategoryFilter("llm=loud"), /llm=loud/);
  assert.throws(() => getCategoryFilter("l m=info"), /l m=info/);
  assert.throws(() => getCategoryFilter(5 as unknown as string), TypeError);
});
