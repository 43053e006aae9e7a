/**
 * A flow as one self-contained HTML page: a Gantt timeline of its runs,
 * jobs, steps, nodes and spans (from `spans.ts`) labelled with their kind and
 * step type, colored by status, error events marked, and a span's error,
 * stack (with its line breaks) and events listed when it is clicked.
 *
 * The page makes no network request: styles, script and data are inline,
 * and its Content-Security-Policy (`default-src 'none'`) forbids any fetch,
 * so it can be opened offline and mailed around safely. Event fields are
 * inserted as text, never as HTML.
 *
 * @module
 */
import type { LogEvent } from "../event.ts";
import type { FlowLog } from "../query/types.ts";
import { eventToJson } from "./jsonl.ts";
import { collectSpans, errorStackOf } from "./spans.ts";
import { NodeStatsAccumulator } from "../query/node_stats.ts";
import {
  htmlPage,
  NODE_TABLE_SCRIPT,
  NODE_TABLE_STYLE,
  type NodeTableRow,
  nodeTableRows,
} from "./node_table_html.ts";

/** What the page's script receives. */
interface TimelineData {
  flow_id: string;
  t0: number;
  t1: number;
  summary: FlowLog["summary"];
  spans: {
    id: string;
    parent: string | null;
    depth: number;
    name: string;
    kind: string;
    /** The step's `step_type`, for a step that has one. */
    step_type: string | null;
    status: string;
    incomplete: boolean;
    start: number;
    end: number;
    message: string | null;
    /** The stack of the span's first recorded error, shown with its line breaks. */
    stack: string | null;
    events: number[];
  }[];
  /** Events as JSON text (the event objects of `jsonl.ts`). */
  events: string[];
  /** The flow's steps and `observable()` nodes (`nodeStats()` rows over its events). */
  nodes: NodeTableRow[];
}

/** Spans in tree order (each parent followed by its subtree), with depths. */
function treeOrder(log: FlowLog): TimelineData["spans"] {
  const spans = collectSpans(log.events);
  const index = new Map<LogEvent, number>();
  log.events.forEach((event, i) => index.set(event, i));
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map<string | null, typeof spans>();
  for (const span of spans) {
    const parent = span.parent_span_id !== null && byId.has(span.parent_span_id) &&
        span.parent_span_id !== span.span_id
      ? span.parent_span_id
      : null;
    const list = children.get(parent) ?? [];
    list.push(span);
    children.set(parent, list);
  }
  const out: TimelineData["spans"] = [];
  const visited = new Set<string>();
  const visit = (parent: string | null, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      if (visited.has(span.span_id)) continue;
      visited.add(span.span_id);
      out.push({
        id: span.span_id,
        parent: span.parent_span_id,
        depth,
        name: span.name,
        kind: span.kind,
        step_type: span.kind === "step" ? span.correlation.step_type || null : null,
        status: span.status,
        incomplete: span.incomplete,
        start: span.start_ms,
        end: span.end_ms,
        message: span.status_message,
        stack: errorStackOf(span),
        events: span.events.map((e) => index.get(e) ?? -1).filter((i) => i >= 0),
      });
      visit(span.span_id, depth + 1);
    }
  };
  visit(null, 0);
  // Spans caught in a parent loop are not reachable from a root: list them as roots.
  for (const span of spans) {
    if (!visited.has(span.span_id)) {
      children.set(`loop:${span.span_id}`, [span]);
      visit(`loop:${span.span_id}`, 0);
    }
  }
  return out;
}

/**
 * Renders the flow log as a self-contained HTML page (see the module doc).
 *
 * @example Render a flow
 * ```ts
 * import { renderTimelineHtml } from "./timeline_html.ts";
 * import { buildFlowLog } from "../query/flow_log.ts";
 * import assert from "node:assert/strict";
 * const event = (ts_ms: number, event: string, fields: Record<string, unknown>) => ({
 *   ts_ms, level: "info" as const, severity: 9, event, producer: "p.1", seq: ts_ms,
 *   fields: { flow_id: "f", run_id: "r", ...fields },
 * });
 * const html = renderTimelineHtml(buildFlowLog("f", [
 *   event(1, "run_start", {}),
 *   event(4, "run_end", { status: "ok", note: "</script><b>" }),
 * ]));
 * assert.ok(html.startsWith("<!doctype html>"));
 * assert.ok(!html.includes("</script><b>"));
 * ```
 */
export function renderTimelineHtml(log: FlowLog): string {
  const spans = treeOrder(log);
  let t0 = log.summary.first_ts_ms ?? 0;
  let t1 = log.summary.last_ts_ms ?? 0;
  for (const span of spans) {
    if (span.start < t0) t0 = span.start;
    if (span.end > t1) t1 = span.end;
  }
  const stats = new NodeStatsAccumulator({ flow_id: log.flow_id });
  stats.offer(log.events);
  const data: TimelineData = {
    flow_id: log.flow_id,
    t0,
    t1,
    summary: log.summary,
    spans,
    events: log.events.map(eventToJson),
    nodes: nodeTableRows(stats.entries(), false),
  };
  return htmlPage({
    title: `flightlog · ${log.flow_id}`,
    style: STYLE + NODE_TABLE_STYLE,
    header:
      `<div class="legend"><span class="ok">ok</span><span class="error">error</span><span class="skipped">skipped</span><span class="cancelled">cancelled</span><span class="unset">no status</span><span class="unset incomplete">incomplete</span><span class="mark-key">error event</span></div>
`,
    body: `<main>
<div id="timeline" role="list"></div>
<div class="side">
<section id="nodes"><h2>Nodes</h2></section>
<aside id="details" aria-live="polite"><p class="hint">Click a span to see its events.</p></aside>
</div>
</main>`,
    data,
    script: NODE_TABLE_SCRIPT + SCRIPT,
  });
}

const STYLE = `
:root { --ok: #2e9d4f; --error: #d93025; --skipped: #c9a227; --cancelled: #8e44ad; --unset: #5b7fb8; font: 13px/1.4 system-ui, sans-serif; color: #1d2330; }
body { margin: 0; }
header { padding: 12px 16px; border-bottom: 1px solid #dde1e8; }
h1 { font-size: 16px; margin: 0 0 4px; }
#summary { color: #4a5366; }
.legend { margin-top: 6px; display: flex; gap: 12px; flex-wrap: wrap; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; border-radius: 2px; background: var(--c); }
.legend .mark-key::before { width: 2px; background: #000; border-radius: 0; }
.legend .incomplete::before { background: repeating-linear-gradient(45deg, var(--c), var(--c) 3px, #fff 3px, #fff 5px); }
.ok { --c: var(--ok); } .error { --c: var(--error); } .skipped { --c: var(--skipped); } .cancelled { --c: var(--cancelled); } .unset { --c: var(--unset); }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(280px, 2fr); min-height: calc(100vh - 90px); }
#timeline { overflow: auto; padding: 8px 0; border-right: 1px solid #dde1e8; }
.row { display: grid; grid-template-columns: 260px 1fr; align-items: center; height: 22px; cursor: pointer; }
.row:hover, .row.selected { background: #eef3fb; }
.label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding-right: 8px; }
.label .kind { color: #8a93a6; font-size: 11px; margin-left: 4px; }
.track { position: relative; height: 14px; margin-right: 12px; }
.bar { position: absolute; top: 0; height: 14px; min-width: 2px; border-radius: 3px; background: var(--c); border: 0; padding: 0; cursor: pointer; }
.bar.incomplete { background: repeating-linear-gradient(45deg, var(--c), var(--c) 4px, #fff 4px, #fff 7px); }
.bar.status-error { box-shadow: 0 0 0 2px #fbd3cf; }
.mark { position: absolute; top: -3px; width: 2px; height: 20px; background: #000; pointer-events: none; }
.row.error-row .label { color: var(--error); font-weight: 600; }
.axis { display: grid; grid-template-columns: 260px 1fr; color: #8a93a6; font-size: 11px; height: 18px; }
.axis .ticks { position: relative; margin-right: 12px; }
.axis .ticks span { position: absolute; transform: translateX(-50%); }
.axis .ticks span:last-child { transform: translateX(-100%); }
.side { overflow: auto; }
#nodes { padding: 12px 16px 0; overflow-x: auto; }
#nodes h2 { font-size: 14px; margin: 0 0 6px; }
#details { padding: 12px 16px; overflow: auto; }
#details h2 { font-size: 14px; margin: 0 0 6px; }
#details dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0 0 10px; }
#details dt { color: #8a93a6; }
#details table { border-collapse: collapse; width: 100%; font-size: 12px; }
#details td, #details th { text-align: left; vertical-align: top; padding: 3px 6px; border-bottom: 1px solid #eef0f4; }
#details td.fields { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
#details tr.lvl-error td, #details tr.lvl-fatal td { color: var(--error); }
.message { color: var(--error); font-weight: 600; }
.stack { font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0 0 10px; padding: 6px 8px; background: #fdf3f2; border-left: 3px solid var(--error); }
.hint { color: #8a93a6; }
`;

// Plain ES5-style script (no template literals): it lives inside a TypeScript template string.
const SCRIPT = `
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("flightlog-data").textContent);
  var events = data.events.map(function (text) { return JSON.parse(text); });
  var span0 = data.t0, total = Math.max(data.t1 - data.t0, 1e-3);
  function count(n, noun) { return n + " " + noun + (n === 1 ? "" : "s"); }
  function iso(ms) { var d = new Date(ms); return isNaN(d.getTime()) ? String(ms) : d.toISOString(); }
  var s = data.summary;
  document.getElementById("summary").textContent =
    "start " + iso(s.first_ts_ms) + " \\u00b7 duration " + dur(s.duration_ms) + " \\u00b7 " +
    count(s.event_count, "event") + " \\u00b7 " + count(s.error_count, "error") + " \\u00b7 " +
    count(data.spans.length, "span");
  var timeline = document.getElementById("timeline");
  var axis = el("div", "axis");
  axis.appendChild(el("div", "", ""));
  var ticks = el("div", "ticks");
  for (var t = 0; t <= 4; t++) {
    var tick = el("span", "", "+" + dur(total * t / 4));
    tick.style.left = (t * 25) + "%";
    ticks.appendChild(tick);
  }
  axis.appendChild(ticks);
  timeline.appendChild(axis);
  var selected = null;
  function kindText(span) { return span.step_type ? span.kind + ": " + span.step_type : span.kind; }
  data.spans.forEach(function (span, i) {
    var row = el("div", "row");
    row.setAttribute("role", "listitem");
    row.dataset.span = span.id;
    var label = el("div", "label");
    label.style.paddingLeft = (8 + span.depth * 14) + "px";
    label.appendChild(el("span", "name", span.name));
    label.appendChild(el("span", "kind", kindText(span)));
    label.title = span.name + " (" + kindText(span) + ")";
    var track = el("div", "track");
    var bar = el("button", "bar " + span.status + " status-" + span.status + (span.incomplete ? " incomplete" : ""));
    bar.type = "button";
    bar.style.left = (100 * (span.start - span0) / total) + "%";
    bar.style.width = Math.max(100 * (span.end - span.start) / total, 0.15) + "%";
    bar.title = span.name + " \\u00b7 " + (span.incomplete ? "incomplete" : span.status) + " \\u00b7 " + dur(span.end - span.start);
    bar.setAttribute("aria-label", bar.title);
    track.appendChild(bar);
    span.events.forEach(function (index) {
      var event = events[index];
      if (event && event.severity >= 17) {
        var mark = el("i", "mark");
        mark.style.left = (100 * (event.ts_ms - span0) / total) + "%";
        mark.title = event.event;
        track.appendChild(mark);
      }
    });
    if (span.status === "error") row.classList.add("error-row");
    row.appendChild(label);
    row.appendChild(track);
    row.addEventListener("click", function () { show(span, row); });
    timeline.appendChild(row);
  });
  function show(span, row) {
    if (selected) selected.classList.remove("selected");
    selected = row;
    row.classList.add("selected");
    var details = document.getElementById("details");
    details.textContent = "";
    details.appendChild(el("h2", "", span.name + " (" + kindText(span) + ")"));
    var dl = el("dl");
    function item(k, v) { dl.appendChild(el("dt", "", k)); dl.appendChild(el("dd", "", v)); }
    item("status", span.incomplete ? span.status + " (incomplete: no end event)" : span.status);
    item("start", iso(span.start));
    item("duration", dur(span.end - span.start));
    item("span id", span.id);
    if (span.parent) item("parent", span.parent);
    details.appendChild(dl);
    if (span.message) details.appendChild(el("p", "message", span.message));
    // textContent in a pre-wrap block: the stack's line breaks show, its text stays text.
    if (span.stack) details.appendChild(el("pre", "stack", span.stack));
    var table = el("table", "events");
    var head = el("tr");
    ["+time", "level", "event", "fields"].forEach(function (h) { head.appendChild(el("th", "", h)); });
    table.appendChild(head);
    span.events.forEach(function (index) {
      var event = events[index];
      var tr = el("tr", "event lvl-" + event.level);
      tr.appendChild(el("td", "", "+" + dur(event.ts_ms - span.start)));
      tr.appendChild(el("td", "", event.level));
      tr.appendChild(el("td", "", event.event));
      tr.appendChild(el("td", "fields", JSON.stringify(event.fields, null, 1)));
      table.appendChild(tr);
    });
    details.appendChild(table);
  }
  if (data.nodes.length > 0) renderNodeTable(document.getElementById("nodes"), data.nodes, true);
  else document.getElementById("nodes").hidden = true;
  document.body.dataset.ready = "true";
})();
`;
