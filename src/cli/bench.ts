/**
 * `flightlog bench [--json] [--seconds N] [-q]`: what logging costs per call
 * and per node on this machine, measured here by `measureOverhead()` (which
 * also runs in a browser page), with progress on stderr.
 *
 * @module
 */
import {
  type CallFigure,
  measureOverhead,
  type MeasureOverheadOptions,
  type NodeFigure,
  type OverheadReport,
  type Spread,
} from "../bench/measure_overhead.ts";
import type { RuntimeInfo } from "../platform/types.ts";
import { CliError, type CliIo, EXIT, parseFlags, positionals, table } from "./_common.ts";

/** Seconds a run takes when `--seconds` is not given. */
const DEFAULT_SECONDS = 10;
/** The per-node budget of the reference contracts, which the text report compares with. */
const NODE_BUDGET_MS = 5;

function parseSeconds(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SECONDS;
  const n = Number(text);
  if (text.trim() === "" || !(n >= 0.1 && n <= 3600)) {
    throw new CliError(
      `Invalid --seconds ${
        JSON.stringify(text)
      }: give the seconds the run may take, from 0.1 to 3600`,
      EXIT.usage,
    );
  }
  return n;
}

/** Runs `bench`. */
export async function benchCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals: given } = parseFlags("bench", args, {
    json: { type: "boolean" },
    seconds: { type: "string" },
    quiet: { type: "boolean", short: "q" },
  });
  positionals("bench", given, []);
  const seconds = parseSeconds(values.seconds);
  const options: MeasureOverheadOptions = { seconds };
  if (!values.quiet) {
    io.err(`flightlog bench: measuring for about ${seconds} s (-q hides this)`);
    options.onProgress = (p) => io.err(`flightlog bench: [${p.index}/${p.count}] ${p.label}`);
  }
  const report = await measureOverhead(options);
  io.out.write(values.json ? JSON.stringify(report, null, 2) + "\n" : benchText(report));
  return EXIT.ok;
}

function ns(x: number): string {
  return x < 10 ? x.toFixed(2) : Math.round(x).toLocaleString("en-US");
}

function range(s: Spread, format: (x: number) => string): string {
  return `${format(s.p25)}–${format(s.p75)}`;
}

function callRow(f: CallFigure): string[] {
  const s = f.ns_per_call;
  return [f.label, ns(s.median), range(s, ns), String(s.samples)];
}

function nodeRow(f: NodeFigure): string[] {
  const s = f.overhead_ns;
  return [`${f.label}: overhead`, ns(s.median), range(s, ns), String(s.samples)];
}

/** How the report names each runtime. */
const RUNTIME_NAMES: Record<RuntimeInfo["name"], string> = {
  deno: "Deno",
  node: "Node.js",
  browser: "Browser",
};

/** The report for people: one row per figure, then the end-to-end rate and the budget. */
export function benchText(r: OverheadReport): string {
  const f = r.figures;
  const rt = r.runtime;
  const runtime = [
    `${RUNTIME_NAMES[rt.name]} ${rt.version ?? "(version unknown)"}`,
    rt.engine,
    rt.os,
  ].filter((x) => x !== null).join(", ");
  const cpus = r.cpu.logical_cpus === null ? "unknown" : String(r.cpu.logical_cpus);
  const e2e = f.end_to_end;
  const rate = (x: number) => Math.round(x).toLocaleString("en-US");
  const perNodeUs = f.observable_sync.overhead_ns.median / 1000;
  return [
    `flightlog bench: what logging costs here (workload: ${r.workload})`,
    `runtime    ${runtime}`,
    `cpu        ${r.cpu.model}, ${cpus} logical CPUs`,
    `run        ${r.date}, ${r.elapsed_s.toFixed(1)} s, transport ${r.transport}`,
    "",
    table(["ns per call", "median", "p25–p75", "batches"], [
      callRow(f.info_bound),
      callRow(f.info_inline),
      callRow(f.disabled),
      nodeRow(f.observable_sync),
      nodeRow(f.observable_async),
      callRow(f.with_context),
    ]).trimEnd(),
    "",
    `end to end ${rate(e2e.events_per_s.median)} events/s persisted (p25–p75 ${
      range(e2e.events_per_s, rate)
    }; ${e2e.events_per_s.samples} rounds of ${
      rate(e2e.events_per_round)
    }; ${e2e.dropped} dropped)`,
    `per node   a sync observable() node's logging takes ${perNodeUs.toFixed(2)} µs, ${
      (perNodeUs / (NODE_BUDGET_MS * 10)).toFixed(3)
    }% of a ${NODE_BUDGET_MS} ms budget`,
  ].join("\n") + "\n";
}
