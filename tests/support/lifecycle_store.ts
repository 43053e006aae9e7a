/**
 * Writes one flow with the public lifecycle API (`observeRun`,
 * `observable()`), as a user would, for the `show` and `view` tests: a run of
 * two jobs; `plan` (llm) makes a provider call through an observable node,
 * `validate` (tool) throws an error with a known three-line stack, `post`
 * (http) is skipped.
 *
 * @module
 */
import { createLogger, observable, observeRun } from "../../mod.ts";

/** What the written flow holds. */
export const LIFECYCLE_FLOW = {
  flow_id: "f-views",
  run_id: "r-views",
  node: "llm.ask",
  message: "summary exceeds 280 characters",
  stack: [
    "RangeError: summary exceeds 280 characters",
    "    at checkLength (agent.ts:12:11)",
    "    at validate (agent.ts:30:5)",
  ],
} as const;

/** Writes the flow into `dir` (a new store) and closes the logger. */
export async function writeLifecycleStore(dir: string): Promise<void> {
  const log = createLogger({ dir, transport: "inline", exitHooks: false });
  const f = LIFECYCLE_FLOW;
  const run = observeRun(log, { flow_id: f.flow_id, run_id: f.run_id });
  const ask = observable((prompt: string) => Promise.resolve({ text: prompt, tokens: 7 }), {
    logger: log,
    node: f.node,
    category: "llm",
    provider: {
      name: "demo",
      usage: (r) => ({ input_tokens: 5, output_tokens: r.tokens, cost_usd: 0.001 }),
    },
  });
  const research = run.job("research");
  await research.runStep("plan", { step_type: "llm" }, () => ask("plan"));
  research.end();
  const publish = run.job("publish");
  const error = Object.assign(new RangeError(f.message), {
    code: "E_TOO_LONG",
    stack: f.stack.join("\n"),
  });
  try {
    publish.runStep("validate", { step_type: "tool" }, () => {
      throw error;
    });
  } catch (thrown) {
    if (thrown !== error) throw thrown;
  }
  publish.step("post", { step_type: "http" }).skip("validate failed");
  publish.end();
  run.end();
  await log.close();
}
