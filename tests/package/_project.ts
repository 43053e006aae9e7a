/**
 * What the package tests share: running commands in a user's project, and
 * the Deno program a user writes.
 *
 * @module
 */
import assert from "node:assert/strict";

/** A finished command. */
export interface Run {
  code: number;
  /** Standard output. */
  stdout: string;
  /** Standard output and error, for messages and error checks. */
  out: string;
}

/** Runs `command` in `cwd` (colors off) to completion. */
export async function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Run> {
  const output = await new Deno.Command(command, {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  const stdout = text.decode(output.stdout);
  return { code: output.code, stdout, out: stdout + text.decode(output.stderr) };
}

/** Runs a command that must succeed; returns its standard output. */
export async function ok(command: string, args: string[], cwd: string): Promise<string> {
  const r = await run(command, args, cwd);
  assert.equal(r.code, 0, `${command} ${args.join(" ")} failed:\n${r.out}`);
  return r.stdout;
}

/** True when `dir` or a parent holds a config or node_modules that Deno or npm would use. */
export async function inheritsProject(dir: string): Promise<string | null> {
  for (let d = dir; d !== "/"; d = d.slice(0, d.lastIndexOf("/")) || "/") {
    if (d === dir) continue;
    for (const name of ["deno.json", "deno.jsonc", "package.json", "node_modules"]) {
      try {
        await Deno.stat(`${d}/${name}`);
        return `${d}/${name}`;
      } catch {
        // absent: as it should be
      }
    }
  }
  return null;
}

/** The Deno program a user writes: logs a flow, reads it back, prints what it got. */
export const DENO_MAIN = `import { createLogger, type FlowLog } from "flightlog";

const log = createLogger({ dir: Deno.args[0] });
const flow = log.child({ flow_id: "f-1", run_id: "r-1" });
flow.info("run_start", { span_id: "run" });
flow.info("step_end", { span_id: "s-1", parent_id: "run", status: "ok", duration_ms: 12.5 });
await log.flush();
const trace: FlowLog = await log.getFlowLog("f-1");
const mode: string = log.stats().mode;
await log.close();
console.log(JSON.stringify({
  mode,
  events: trace.events.map((e) => e.event),
  steps: trace.spans[0]?.children.length,
}));

// Type errors the declarations must catch (deno check fails if one is not an error).
export function misuse(): void {
  // @ts-expect-error: dir is a string
  createLogger({ dir: 5 });
  // @ts-expect-error: no such level method
  log.verbose("x");
}
`;

/** What {@linkcode DENO_MAIN} prints when it works: its flow read back, through the `sab` transport. */
export const DENO_MAIN_PRINTS = { mode: "sab", events: ["run_start", "step_end"], steps: 1 };

/**
 * Writes {@linkcode DENO_MAIN} into `project` and runs it with read and write
 * permissions and `flags`, its store in `project/store`.
 */
export async function runDenoMain(project: string, flags: string[] = []): Promise<Run> {
  await Deno.writeTextFile(`${project}/main.ts`, DENO_MAIN);
  const args = ["run", "--allow-read", "--allow-write", ...flags, "main.ts", `${project}/store`];
  return await run(Deno.execPath(), args, project);
}
