import assert from "node:assert/strict";
import { LIFECYCLE_EVENTS } from "../src/lifecycle_events.ts";
import { NODE_EVENTS } from "../src/integrations/observable.ts";
import { spanKindOfEvent } from "../src/span_kind.ts";

Deno.test("spanKindOfEvent() marks exactly the lifecycle observer's and observable()'s events", () => {
  const { runSummary: _, ...lifecycle } = LIFECYCLE_EVENTS;
  const named = [...Object.values(lifecycle), ...Object.values(NODE_EVENTS)];
  assert.deepEqual(named.map((name) => [name, spanKindOfEvent(name)]), [
    ["run_start", "run"],
    ["run_end", "run"],
    ["job_start", "job"],
    ["job_end", "job"],
    ["step_start", "step"],
    ["step_end", "step"],
    ["node_entry", "node"],
    ["node_exit", "node"],
    ["node_error", "node"],
  ]);
  for (const name of ["run_summary", "step_wide", "", "__proto__", "toString", "hasOwnProperty"]) {
    assert.equal(spanKindOfEvent(name), undefined, name);
  }
});
