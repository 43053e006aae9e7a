/**
 * Takes the timeline screenshot of the README (`docs/timeline.png`): logs a
 * small agent flow through the lifecycle API into a temporary store, writes
 * its page with the real CLI (`flightlog view`), opens it in headless
 * Chromium, clicks the failed step and saves the picture.
 *
 * Run: `npx deno run -A scripts/timeline_screenshot.ts [out.png]`
 * (`-A`: playwright-core probes `/proc` when it loads).
 *
 * @module
 */
import { createLogger, observable, observeRun } from "../mod.ts";
import { launchChromium } from "../tests/support/chromium.ts";

const out = Deno.args[0] ?? new URL("../docs/timeline.png", import.meta.url).pathname;
const root = new URL("..", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "flightlog-screenshot-" });

// Steps take a few milliseconds each so that the bars have a visible length.
const work = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  const log = createLogger({ dir: `${dir}/store`, exitHooks: false });
  const chat = observable(
    async (prompt: string) => {
      await work(18);
      return { text: `answer to ${prompt}`, usage: { in: 412, out: 96 } };
    },
    {
      logger: log,
      node: "openai.chat",
      provider: {
        name: "openai",
        model: "gpt-4o-mini",
        usage: (r) => ({ input_tokens: r.usage.in, output_tokens: r.usage.out, cost_usd: 0.0011 }),
      },
    },
  );
  const run = observeRun(log, { flow_id: "checkout-agent-42", run_id: "r-7" });
  const research = run.job("research");
  await research.runStep("plan", { step_type: "llm" }, () => chat("plan the answer"));
  await research.runStep("search", { step_type: "http" }, async (step) => {
    await work(25);
    step.logger.info("http_response", { status_code: 200, bytes: 5120 });
  });
  await research.runStep("summarize", { step_type: "llm" }, () => chat("summarize"));
  research.end();
  const publish = run.job("publish");
  try {
    await publish.runStep("validate", { step_type: "tool" }, async () => {
      await work(8);
      throw Object.assign(new Error("summary exceeds 280 characters"), { code: "E_TOO_LONG" });
    });
  } catch {
    // The step is ended failed and the error attributed; the flow goes on.
  }
  publish.step("post", { step_type: "http" }).skip("validation failed");
  publish.end();
  run.end();
  await log.close();

  const page = `${dir}/timeline.html`;
  const view = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      `${root}src/cli/main.ts`,
      "view",
      `${dir}/store`,
      "checkout-agent-42",
      "-o",
      page,
    ],
    cwd: root,
  }).output();
  if (!view.success) throw new Error(new TextDecoder().decode(view.stderr));

  const chromium = await launchChromium();
  try {
    const tab = await chromium.context.newPage();
    await tab.setViewportSize({ width: 1200, height: 470 });
    await tab.goto(`file://${page}`);
    await tab.waitForSelector("body[data-ready=true]");
    await tab.locator(".row", { hasText: "validate" }).locator(".bar").click();
    await tab.screenshot({ path: out });
    await tab.close();
  } finally {
    await chromium.close();
  }
  console.log(`Wrote ${out}`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
