/**
 * The per-node table of the HTML pages: beside the timeline of one flow
 * (`timeline_html.ts`), and as a page of its own over the last runs of a flow
 * ({@linkcode renderNodeRunsHtml}, `flightlog view --runs N`), where each node
 * also gets a small histogram of its durations drawn from its sketch.
 *
 * Like the timeline, the page is self-contained (no network request, a
 * `default-src 'none'` Content-Security-Policy) and inserts every name and
 * value as text, never as HTML.
 *
 * @module
 */
import type { NodeStatsEntry, NodeStatsRow } from "../query/node_stats.ts";

/** Bars of a node's duration histogram. */
export const HISTOGRAM_BINS = 16;

/** A node as the page's script receives it. */
export interface NodeTableRow extends NodeStatsRow {
  /** The shortest duration (exact), or null. */
  min_ms: number | null;
  /**
   * Executions per bar, the bars splitting [min, max] of its durations into
   * {@linkcode HISTOGRAM_BINS} equal steps on a log scale; null when not drawn.
   */
  histogram: number[] | null;
}

/**
 * The rows of `entries` for a page; with `histograms`, each node's durations
 * binned for its histogram (from the sketch's buckets: each bucket's count
 * goes to the bar of its representative value, within 1% of its values).
 */
export function nodeTableRows(
  entries: readonly NodeStatsEntry[],
  histograms: boolean,
): NodeTableRow[] {
  return entries.map(({ row, durations }) => {
    const min_ms = durations.count === 0 ? null : durations.min;
    if (!histograms || durations.count === 0) return { ...row, min_ms, histogram: null };
    const bars = new Array<number>(HISTOGRAM_BINS).fill(0);
    const lo = Math.log(Math.max(durations.min, 1e-6));
    const span = Math.log(Math.max(durations.max, 1e-6)) - lo;
    for (const bucket of durations.buckets()) {
      const value = Math.min(Math.max(bucket.upper, durations.min), durations.max);
      const at = span <= 0 || value <= 1e-6
        ? 0
        : Math.floor((Math.log(value) - lo) / span * HISTOGRAM_BINS);
      bars[Math.min(Math.max(at, 0), HISTOGRAM_BINS - 1)]! += bucket.count;
    }
    return { ...row, min_ms, histogram: bars };
  });
}

/** JSON safe inside a `<script>` element: `<` never appears raw. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll("<", "\\u003c").replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/** Text safe in HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** What {@linkcode htmlPage} lays out around its fixed head, title and summary. */
export interface HtmlPageParts {
  /** The page's title, also its heading. */
  title: string;
  /** The CSS of the page. */
  style: string;
  /** HTML after the summary inside `<header>`, each element on a line of its own. */
  header: string;
  /** HTML between the header and the data. */
  body: string;
  /** What the page's script reads from `#flightlog-data`. */
  data: unknown;
  /** The page's script, which may call `el()` and `dur()` (see `PAGE_HELPERS_SCRIPT`). */
  script: string;
}

/**
 * A self-contained page: no network request (a `default-src 'none'`
 * Content-Security-Policy), its data as JSON in a script element.
 */
export function htmlPage(parts: HtmlPageParts): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(parts.title)}</title>
<style>${parts.style}</style>
</head>
<body>
<header>
<h1>${escapeHtml(parts.title)}</h1>
<div id="summary"></div>
${parts.header}</header>
${parts.body}
<script type="application/json" id="flightlog-data">${scriptJson(parts.data)}</script>
<script>${PAGE_HELPERS_SCRIPT}${parts.script}</script>
</body>
</html>
`;
}

/**
 * A page of the per-node table over `runIds`, the last runs of flow `flowId`,
 * with a duration histogram per node.
 *
 * @example Two runs of one step
 * ```ts
 * import { NodeStatsAccumulator } from "../query/node_stats.ts";
 * import { renderNodeRunsHtml } from "./node_table_html.ts";
 * import assert from "node:assert/strict";
 * const stats = new NodeStatsAccumulator({ flow_id: "f" });
 * stats.offer([10, 20].map((duration_ms, i) => ({
 *   ts_ms: i, level: "info" as const, severity: 9, event: "step_end", producer: "p.1", seq: i,
 *   fields: { flow_id: "f", run_id: `r-${i}`, step_id: "<fetch>", duration_ms },
 * })));
 * const html = renderNodeRunsHtml("f", ["r-0", "r-1"], stats.entries());
 * assert.ok(html.includes("default-src 'none'"));
 * assert.ok(!html.includes("<fetch>"));
 * ```
 */
export function renderNodeRunsHtml(
  flowId: string,
  runIds: readonly string[],
  entries: readonly NodeStatsEntry[],
): string {
  const data = { flow_id: flowId, runs: runIds, nodes: nodeTableRows(entries, true) };
  return htmlPage({
    title: `flightlog · ${flowId} · last ${runIds.length} runs`,
    style: RUNS_STYLE + NODE_TABLE_STYLE,
    header: "",
    body: `<section id="nodes"></section>`,
    data,
    script: NODE_TABLE_SCRIPT + RUNS_SCRIPT,
  });
}

const RUNS_STYLE = `
:root { font: 13px/1.4 system-ui, sans-serif; color: #1d2330; }
body { margin: 0; }
header { padding: 12px 16px; border-bottom: 1px solid #dde1e8; }
h1 { font-size: 16px; margin: 0 0 4px; }
#summary { color: #4a5366; }
#nodes { padding: 12px 16px; }
`;

/** Styles of the table, shared by both pages. */
export const NODE_TABLE_STYLE = `
.nodes { border-collapse: collapse; font-size: 12px; width: 100%; }
.nodes th { text-align: right; color: #8a93a6; font-weight: normal; padding: 3px 6px; border-bottom: 1px solid #dde1e8; white-space: nowrap; }
.nodes td { text-align: right; padding: 3px 6px; border-bottom: 1px solid #eef0f4; white-space: nowrap; font-variant-numeric: tabular-nums; }
.nodes th:first-child, .nodes td:first-child { text-align: left; }
.nodes td.name { max-width: 18em; overflow: hidden; text-overflow: ellipsis; }
.nodes td .tag { color: #8a93a6; font-size: 11px; margin-left: 4px; }
.nodes td.failed { color: #d93025; font-weight: 600; }
.nodes .dist { display: inline-flex; align-items: flex-end; gap: 1px; height: 22px; vertical-align: middle; }
.nodes .dist i { display: block; width: 5px; background: #5b7fb8; min-height: 1px; }
.nodes .dist i.empty { background: #eef0f4; }
`;

/**
 * What every page's script shares, declared at the top level before it:
 * `el(tag, cls, text)`, an element whose text is set as text (never HTML),
 * and `dur(ms)`, a duration for people (`-` for none). Plain ES5, as the
 * scripts that use it.
 */
const PAGE_HELPERS_SCRIPT = `
function el(tag, cls, text) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}
function dur(ms) {
  if (ms === null) return "-";
  if (ms < 1) return Math.round(ms * 1000) + "\\u00b5s";
  if (ms < 1000) return (Math.round(ms * 10) / 10) + "ms";
  if (ms < 60000) return (ms / 1000).toFixed(2) + "s";
  return Math.floor(ms / 60000) + "m" + Math.floor((ms % 60000) / 1000) + "s";
}`;

/**
 * The page script's table renderer: \`renderNodeTable(container, nodes, compact)\`
 * (plain ES5, as the timeline's script: it lives in a template string). A
 * compact table (beside the timeline) leaves out p90, max and tokens.
 */
export const NODE_TABLE_SCRIPT = `
function renderNodeTable(container, nodes, compact) {
  "use strict";
  var histograms = nodes.some(function (n) { return n.histogram !== null; });
  var table = el("table", "nodes");
  var head = el("tr");
  var columns = compact
    ? ["node", "count", "failed", "p50", "p99", "total", "share", "cost $"]
    : ["node", "count", "failed", "p50", "p90", "p99", "max", "total", "share", "tokens in/out", "cost $"];
  if (histograms) columns.push("durations");
  columns.forEach(function (h) { head.appendChild(el("th", "", h)); });
  table.appendChild(head);
  nodes.forEach(function (n) {
    var tr = el("tr", "node-row");
    var name = el("td", "name", n.name);
    var tag = n.step_type !== null ? n.step_type : n.category;
    var kind = n.kind + (tag !== null ? ": " + tag : "");
    name.appendChild(el("span", "tag", kind));
    name.title = n.name + " (" + kind + ")";
    tr.appendChild(name);
    var other = n.skipped + n.cancelled;
    tr.appendChild(el("td", "count", String(n.count) + (other > 0 ? " (" + n.skipped + " skipped, " + n.cancelled + " cancelled)" : "")));
    tr.appendChild(el("td", n.failed > 0 ? "failed" : "", String(n.failed)));
    (compact ? [n.p50, n.p99, n.total_ms] : [n.p50, n.p90, n.p99, n.max, n.total_ms]).forEach(function (ms) {
      tr.appendChild(el("td", "", dur(ms)));
    });
    tr.appendChild(el("td", "share", n.wall_share === null ? "-" : (n.wall_share * 100).toFixed(1) + "%"));
    if (!compact) tr.appendChild(el("td", "", n.tokens_in + "/" + n.tokens_out));
    tr.appendChild(el("td", "", n.cost_usd === 0 ? "0" : n.cost_usd.toFixed(4)));
    if (histograms) {
      var cell = el("td", "");
      if (n.histogram !== null) {
        var top = Math.max.apply(null, n.histogram);
        var dist = el("span", "dist");
        dist.title = "durations from " + dur(n.min_ms) + " to " + dur(n.max) + " (log scale)";
        n.histogram.forEach(function (count) {
          var bar = el("i", count === 0 ? "empty" : "");
          bar.style.height = Math.max(100 * count / top, count === 0 ? 4 : 8) + "%";
          bar.title = String(count);
          dist.appendChild(bar);
        });
        cell.appendChild(dist);
      }
      tr.appendChild(cell);
    }
    table.appendChild(tr);
  });
  container.appendChild(table);
}
`;

const RUNS_SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("flightlog-data").textContent);
  var executions = data.nodes.reduce(function (n, r) { return n + r.count; }, 0);
  document.getElementById("summary").textContent = data.runs.length + " runs \\u00b7 " +
    data.nodes.length + " nodes \\u00b7 " + executions + " executions \\u00b7 runs " +
    (data.runs.length ? data.runs[0] + " \\u2026 " + data.runs[data.runs.length - 1] : "-");
  renderNodeTable(document.getElementById("nodes"), data.nodes, false);
  document.body.dataset.ready = "true";
})();
`;
