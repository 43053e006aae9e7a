/**
 * The shared benchmark workload and the statistics the gate and the peer
 * comparison print. Private to `bench/` (never re-exported).
 *
 * The workload is the event flightlog exists for: one step of an agent flow,
 * seven correlation ids bound once with `child()` and two fields per call.
 *
 * @module
 */

/** The seven correlation fields bound once per flow step with `child()`. */
export const BINDINGS = {
  flow_id: "f-7c1e2a90",
  run_id: "r-20261122-0042",
  job_id: "j-318",
  step_id: "fetch_docs",
  step_type: "http",
  node: "retriever",
  trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
} as const;

/** The event name of every benchmarked call. */
export const EVENT = "step_end";

/**
 * The per-call fields. A fresh object per call, as a real call site builds
 * one, so no logger can profit from seeing the same object twice.
 */
export function callFields(i: number): { duration_ms: number; status: string } {
  return { duration_ms: 12.5 + (i & 1023), status: "ok" };
}

/** Median of `xs` (which is sorted in place). */
export function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/** The `q` quantile of `xs` by linear interpolation (sorts `xs` in place). */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  xs.sort((a, b) => a - b);
  const at = (xs.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return xs[lo]! + (xs[hi]! - xs[lo]!) * (at - lo);
}

/** Runs `loop(n)` once and returns nanoseconds per iteration. */
export function timeLoop(loop: (n: number) => void, n: number): number {
  const t0 = performance.now();
  loop(n);
  return ((performance.now() - t0) * 1e6) / n;
}

/** Bytes of the files directly in `dir` whose name matches `pattern`, and their count. */
export async function filesIn(
  dir: string,
  pattern: RegExp,
): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !pattern.test(entry.name)) continue;
    files++;
    bytes += (await Deno.stat(`${dir}/${entry.name}`)).size;
  }
  return { files, bytes };
}

/** Counts the `\n`-terminated lines of a file without decoding it. */
export async function countLines(path: string): Promise<number> {
  const bytes = await Deno.readFile(path);
  let n = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

/** Formats a number with `digits` decimals, or "–" when it is not finite. */
export function fmt(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "–";
}

/** Formats an integer with thin thousands separators. */
export function fmtInt(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–";
}

/** Renders rows as a Markdown table (first row is the header), columns padded. */
export function table(rows: string[][], align: ("l" | "r")[] = []): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 3, cell.length)));
  }
  const pad = (cell: string, i: number): string =>
    align[i] === "r" ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
  const line = (row: string[]): string => `| ${row.map(pad).join(" | ")} |`;
  const rule = `| ${
    widths.map((w, i) => (align[i] === "r" ? "-".repeat(w - 1) + ":" : "-".repeat(w))).join(" | ")
  } |`;
  const [head, ...body] = rows;
  return [line(head ?? []), rule, ...body.map(line)].join("\n");
}

/** Runtime versions for the report header. */
export function runtimeLine(): string {
  const v = Deno.version;
  return `Deno ${v.deno}, V8 ${v.v8}, TypeScript ${v.typescript}, ${Deno.build.target}`;
}

/** Yields to the event loop (lets timers, workers' messages and promises run). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

const benchDirs: string[] = [];

/**
 * A temporary directory for a `Deno.bench` file's logger, removed when the
 * process unloads: Deno.bench has no teardown hook, and the loggers' workers
 * are unref()ed and die with the process, so the directories are what is left.
 */
export function benchTempDir(): string {
  const dir = Deno.makeTempDirSync({ prefix: "flightlog-bench-" });
  if (benchDirs.push(dir) === 1) {
    globalThis.addEventListener("unload", () => {
      for (const d of benchDirs) Deno.removeSync(d, { recursive: true });
    });
  }
  return dir;
}
