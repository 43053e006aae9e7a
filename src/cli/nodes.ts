/**
 * `flightlog nodes <dir> [filters] [--json] [--sort KEY] [--baseline B]`:
 * one row per node (step or `observable()` node) with executions by status,
 * duration percentiles, total time, share of the flow's wall time, tokens and
 * cost, as `Logger.nodeStats()` gives them; with `--baseline`, each node's
 * p50/p99 change against another window or another store, with the changes
 * beyond noise marked (the test: `query/node_compare.ts`).
 *
 * @module
 */
import { escapeControls, prettyJson } from "../sinks/console_format.ts";
import type { NodeStatsEntry, NodeStatsFilter, NodeStatsRow } from "../query/node_stats.ts";
import { compareNodeStats, type NodeChange } from "../query/node_compare.ts";
import type { SegmentStore } from "../store/segment_store.ts";
import {
  CliError,
  type CliIo,
  damageExit,
  errorText,
  EXIT,
  FILTER_FLAGS,
  filterFromFlags,
  humanDuration,
  openStore,
  paint,
  parseFlags,
  positionals,
  table,
} from "./_common.ts";

// The filter flags that apply to nodes (a subset of `query`'s), also a `--baseline` clause's words.
const { flow, run, node, category, since, until } = FILTER_FLAGS;
const NODE_FILTER_FLAGS = { flow, run, node, category, since, until };

/** `--sort` keys, each a row's order (largest first). */
const SORTS: Record<string, (r: NodeStatsRow) => number> = {
  cost: (r) => r.cost_usd,
  total: (r) => r.total_ms,
  p99: (r) => r.p99 ?? -1,
  count: (r) => r.count,
  errors: (r) => r.failed,
};

/** Runs `nodes`. */
export function nodesCommand(args: string[], io: CliIo): number {
  const { values, positionals: given } = parseFlags("nodes", args, {
    ...NODE_FILTER_FLAGS,
    json: { type: "boolean" },
    sort: { type: "string" },
    baseline: { type: "string" },
  });
  const [dir] = positionals("nodes", given, ["store dir"]);
  const sort = values.sort ?? "cost";
  const sortKey = SORTS[sort];
  if (sortKey === undefined || !Object.hasOwn(SORTS, sort)) {
    throw new CliError(
      `Invalid --sort ${JSON.stringify(sort)}: use one of ${Object.keys(SORTS).join(", ")}`,
      EXIT.usage,
    );
  }
  const filter: NodeStatsFilter = filterFromFlags(values);
  const baseline = values.baseline === undefined ? null : parseBaseline(values.baseline, filter);
  const store = openStore(dir!);
  let other: SegmentStore | null = null;
  try {
    const current = sorted(entriesOf(store, filter), sortKey);
    if (baseline === null) {
      const rows = current.map((e) => e.row);
      if (values.json) io.out.write(prettyJson(rows) + "\n");
      else if (rows.length === 0) io.err(noNodes(dir!));
      else io.out.write(statsTable(rows, io.outIsTty));
      return damageExit(io, dir!, store.stats());
    }
    if (baseline.dir !== null) other = openStore(baseline.dir);
    const before = entriesOf(other ?? store, baseline.filter);
    const changes = compareNodeStats(before, current);
    if (values.json) io.out.write(prettyJson(changes) + "\n");
    else if (changes.length === 0) io.err(noNodes(dir!));
    else io.out.write(changeTable(changes, io.outIsTty));
    const code = damageExit(io, dir!, store.stats());
    if (other === null) return code;
    return Math.max(code, damageExit(io, baseline.dir!, other.stats()));
  } finally {
    store.close();
    other?.close();
  }
}

function entriesOf(store: SegmentStore, filter: NodeStatsFilter): NodeStatsEntry[] {
  try {
    return store.nodeStats(filter).entries();
  } catch (error) {
    // A filter the accumulator refuses (a bad glob) says what was wrong.
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new CliError(errorText(error), EXIT.usage);
    }
    throw error;
  }
}

function sorted(entries: NodeStatsEntry[], key: (r: NodeStatsRow) => number): NodeStatsEntry[] {
  // A stable sort over rows() order: ties stay widest total time first.
  return entries.slice().sort((a, b) => key(b.row) - key(a.row));
}

/**
 * `--baseline`: another store directory (the same filters over it), or
 * `flag=value` clauses separated by spaces or commas that replace those of
 * the current filters (`since=2026-12-01 until=2026-12-02`, `run=r-7`); a
 * `since` or `until` replaces the whole time window, so `until=X` alone
 * means everything before X.
 */
function parseBaseline(
  text: string,
  current: NodeStatsFilter,
): { dir: string | null; filter: NodeStatsFilter } {
  if (!text.includes("=")) return { dir: text, filter: current };
  const filter: NodeStatsFilter = { ...current };
  const clauses = text.split(/[\s,]+/).filter((c) => c !== "");
  if (clauses.some((c) => /^(--)?(since|until)=/.test(c))) {
    delete filter.since_ms;
    delete filter.until_ms;
  }
  for (const clause of clauses) {
    const at = clause.indexOf("=");
    const flag = clause.slice(0, at).replace(/^--/, "");
    if (at <= 0 || !Object.hasOwn(NODE_FILTER_FLAGS, flag)) {
      throw new CliError(
        `Invalid --baseline clause ${JSON.stringify(clause)}: write flag=value with flag one of ${
          Object.keys(NODE_FILTER_FLAGS).join(", ")
        } (e.g. --baseline "since=2026-12-01 until=2026-12-02"), or give another store dir`,
        EXIT.usage,
      );
    }
    Object.assign(filter, filterFromFlags({ [flag]: clause.slice(at + 1) }));
  }
  return { dir: null, filter };
}

function noNodes(dir: string): string {
  return `No nodes in ${dir} match: nodes are steps (step_end events) and observable() nodes (node_exit, node_error)`;
}

const ms = (v: number | null) => v === null ? "-" : humanDuration(v);

function label(kind: "step" | "node", name: string, tag: string | null): string {
  const text = tag === null ? name : `${name} (${tag})`;
  return escapeControls(kind === "step" ? text : `${text} [node]`);
}

function statsTable(rows: NodeStatsRow[], color: boolean): string {
  const flows = new Set(rows.map((r) => r.flow_id)).size > 1;
  return table(
    [
      ...(flows ? ["FLOW"] : []),
      "NODE",
      "COUNT",
      "FAILED",
      "P50",
      "P90",
      "P99",
      "MAX",
      "TOTAL",
      "SHARE",
      "TOKENS IN/OUT",
      "COST $",
    ],
    rows.map((r) => [
      ...(flows ? [escapeControls(r.flow_id ?? "-")] : []),
      label(r.kind, r.name, r.step_type ?? r.category),
      String(r.count) +
      (r.skipped + r.cancelled > 0 ? ` (${r.skipped} skipped, ${r.cancelled} cancelled)` : ""),
      r.failed > 0 ? paint(color, "red", String(r.failed)) : "0",
      ms(r.p50),
      ms(r.p90),
      ms(r.p99),
      ms(r.max),
      humanDuration(r.total_ms),
      r.wall_share === null ? "-" : `${(r.wall_share * 100).toFixed(1)}%`,
      `${r.tokens_in}/${r.tokens_out}`,
      r.cost_usd === 0 ? "0" : r.cost_usd.toFixed(4),
    ]),
  );
}

const VERDICT_COLOR = { slower: "red", faster: "green" } as const;

function changeTable(changes: NodeChange[], color: boolean): string {
  const pct = (v: number | null) => v === null ? "-" : `${v >= 0 ? "+" : ""}${v.toFixed(1)}%`;
  return table(
    ["NODE", "COUNT", "P50", "P50 Δ", "P99", "P99 Δ", "Z", "CHANGE"],
    changes.map((c) => [
      label(c.kind, c.name, c.tag),
      `${c.baseline?.count ?? 0} → ${c.current?.count ?? 0}`,
      `${ms(c.baseline?.p50 ?? null)} → ${ms(c.current?.p50 ?? null)}`,
      pct(c.p50_change),
      `${ms(c.baseline?.p99 ?? null)} → ${ms(c.current?.p99 ?? null)}`,
      pct(c.p99_change),
      c.z === null ? "-" : c.z.toFixed(1),
      c.verdict in VERDICT_COLOR
        ? paint(color, VERDICT_COLOR[c.verdict as keyof typeof VERDICT_COLOR], c.verdict)
        : c.verdict,
    ]),
  );
}
