/**
 * The flightlog command line: `deno task cli <command> <store dir> [options]`,
 * or `deno run --allow-read --allow-write src/cli/main.ts <command> ...`.
 *
 * Flags are parsed with `node:util`'s `parseArgs`: built in (no dependency
 * to vet or download), strict about unknown flags, and enough for flat
 * subcommand flags. Exit codes: 0 done, 1 failed, 2 bad usage, 3 done but
 * damaged data was skipped or segments are missing (`verify`: either found).
 *
 * @module
 */
import { CliError, type CliIo, errorText, EXIT, Output } from "./_common.ts";
import { benchCommand } from "./bench.ts";
import { exportCommand } from "./export.ts";
import { flowsCommand } from "./flows.ts";
import { nodesCommand } from "./nodes.ts";
import { queryCommand } from "./query.ts";
import { showCommand } from "./show.ts";
import { statsCommand } from "./stats.ts";
import { tailCommand } from "./tail.ts";
import { verifyCommand } from "./verify.ts";
import { viewCommand } from "./view.ts";

const FILTERS = `  --flow ID  --run ID  --level LEVEL (minimum)  --event GLOB  --node GLOB
  --category NAME (and below it)  --since TIME  --until TIME (epoch ms or ISO 8601)
  --where field=value (repeatable)`;

/** Each command's entry point; `HELP` has the same keys, in the order the usage lists them. */
const COMMANDS = {
  flows: flowsCommand,
  show: showCommand,
  nodes: nodesCommand,
  query: queryCommand,
  tail: tailCommand,
  export: exportCommand,
  stats: statsCommand,
  verify: verifyCommand,
  view: viewCommand,
  bench: benchCommand,
} satisfies Record<string, (args: string[], io: CliIo) => number | Promise<number>>;

/** Help of each command. */
export const HELP: Readonly<Record<keyof typeof COMMANDS, string>> = {
  flows: `flightlog flows <store dir> [--json] [--limit N]
  Flows, newest first: status of the latest run, start, duration, events, errors.`,
  show: `flightlog show <store dir> <flow> [--json]
  The flow's span tree (runs, jobs, steps, spans) with status and duration, and its summary.`,
  nodes: `flightlog nodes <store dir> [filters] [--json] [--sort cost|total|p99|count|errors]
  [--baseline <store dir> | --baseline "flag=value ..."]
  One row per step and observable() node: executions, failures, p50/p90/p99/max (within 1%),
  total time, share of the flow's wall time, tokens and cost; by cost, then total time.
  --baseline compares each node's p50/p99 with another store (same filters) or other filters
  (e.g. "since=2026-12-01 until=2026-12-02"), marking slower/faster beyond noise
  (Mann-Whitney U on the duration sketches, |z| >= 3.29, and a p50 or p99 change >= 5%).
  Filters: --flow ID  --run ID  --node GLOB  --category NAME  --since TIME  --until TIME`,
  query: `flightlog query <store dir> [filters] [--format text|json|jsonl] [--limit N]
  Matching events in timestamp order.
${FILTERS}`,
  tail: `flightlog tail <store dir> [-n N] [-f] [filters] [--format text|jsonl] [--interval MS]
  The last N matching events (10); with -f, then new ones as they are persisted, until Ctrl-C.
${FILTERS}`,
  export: `flightlog export <store dir> --format jsonl|json|otlp [-o FILE] [-q] [filters]
  Events as JSON Lines, a JSON array, or OTLP/HTTP JSON requests (one per line: logs, then
  each flow's spans). Progress bar on a terminal; -q hides it.
${FILTERS}`,
  stats: `flightlog stats <store dir> [--json]
  Segments, bytes, records, events, flows, drops, evictions, time range, damage.`,
  verify: `flightlog verify <store dir> [--json]
  Checks every segment header and record (framing, checksum, sequence, payload) and reports
  each damaged region by file and offset, and each segment file missing between two others.
  Exit code 3 when damage or a missing segment is found.`,
  view: `flightlog view <store dir> <flow> -o timeline.html [--runs N]
  Writes a self-contained HTML page: a Gantt timeline of the flow, a span's events on click,
  and its per-node table. With --runs N: the per-node table over the flow's last N runs, with
  percentiles and a duration histogram per node.`,
  bench: `flightlog bench [--json] [--seconds N] [-q]
  What logging costs per call and per node on this machine: info() with bound and inline ids,
  a disabled level, observable() sync and async nodes, info() inside withContext(), and
  events/s into a temporary store (removed after); medians with p25–p75, the runtime and CPU.
  --seconds bounds the whole run (10; 0.1 to 3600). Progress on stderr; -q hides it.`,
};

const USAGE = `flightlog <command> <store dir> [options]

Commands:
${Object.values(HELP).map((h) => "  " + h.split("\n")[0]).join("\n")}

Exit codes: 0 done, 1 failed, 2 bad usage, 3 done but damaged data was skipped.
Run \`flightlog help <command>\` for a command's flags.
`;

const HELP_WORDS: ReadonlySet<string> = new Set(["help", "--help", "-h"]);

/** Runs the CLI with `args` and returns the exit code; never throws. */
export async function main(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command !== undefined && Object.hasOwn(COMMANDS, command)) {
      return await COMMANDS[command as keyof typeof COMMANDS](rest, io);
    }
    if (command === undefined || HELP_WORDS.has(command)) {
      const topic = rest[0];
      if (topic !== undefined && Object.hasOwn(HELP, topic)) {
        io.out.write(HELP[topic as keyof typeof HELP] + "\n");
      } else io.out.write(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    throw new CliError(
      `Unknown command ${JSON.stringify(command)}: use one of ${
        Object.keys(HELP).join(", ")
      } (\`flightlog help\`)`,
      EXIT.usage,
    );
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`flightlog: ${error.message}`);
      return error.exitCode;
    }
    io.err(`flightlog: ${errorText(error)}`);
    return EXIT.error;
  } finally {
    io.out.flush();
  }
}

/** The process's streams; Ctrl-C resolves `interrupted` (and is then handled, not fatal). */
function processIo(): CliIo {
  let interrupt = () => {};
  const interrupted = new Promise<void>((resolve) => interrupt = resolve);
  const onSignal = () => interrupt();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const errors = new TextEncoder();
  return {
    out: new Output(Deno.stdout),
    err(line: string) {
      try {
        Deno.stderr.writeSync(errors.encode(line + "\n"));
      } catch {
        // Nowhere left to report to.
      }
    },
    outIsTty: Deno.stdout.isTerminal() && !Deno.noColor,
    errIsTty: Deno.stderr.isTerminal(),
    interrupted,
  };
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args, processIo()));
}
