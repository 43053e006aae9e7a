/**
 * `flightlog show <dir> <flow>`: a flow's span tree (runs, jobs, steps,
 * nodes and other `span_id` spans, with kind, step type, status, duration and
 * error, and the error's stack under the span that recorded it) and its
 * summary; colored on a terminal.
 *
 * @module
 */
import { escapeControls, prettyJson } from "../sinks/console_format.ts";
import { collectSpans, errorStackOf, type TraceSpan } from "../export/spans.ts";
import type { FlowLog } from "../query/types.ts";
import {
  type CliIo,
  damageExit,
  humanDuration,
  isoTime,
  openStore,
  paint,
  parseFlags,
  positionals,
  unknownFlow,
} from "./_common.ts";

/** A span with its children, as `show` prints it. */
export interface SpanTreeNode {
  /** The span. */
  span: TraceSpan;
  /** Spans whose parent it is, by start time. */
  children: SpanTreeNode[];
}

/** Nests spans under their parents; spans whose parent is not among them are roots. */
export function spanTree(spans: readonly TraceSpan[]): SpanTreeNode[] {
  const nodes = new Map<string, SpanTreeNode>();
  for (const span of spans) nodes.set(span.span_id, { span, children: [] });
  const roots: SpanTreeNode[] = [];
  for (const node of nodes.values()) {
    const parentId = node.span.parent_span_id;
    const parent = parentId === null ? undefined : nodes.get(parentId);
    if (parent === undefined || parent === node || isAncestor(node, parent, nodes)) {
      roots.push(node);
    } else parent.children.push(node);
  }
  return roots;
}

/** True when `node` is among `parent`'s ancestors: attaching would close a loop. */
function isAncestor(
  node: SpanTreeNode,
  parent: SpanTreeNode,
  nodes: Map<string, SpanTreeNode>,
): boolean {
  const seen = new Set<SpanTreeNode>();
  for (let at: SpanTreeNode | undefined = parent; at !== undefined && !seen.has(at);) {
    if (at === node) return true;
    seen.add(at);
    const up: string | null = at.span.parent_span_id;
    at = up === null ? undefined : nodes.get(up);
  }
  return false;
}

const STATUS_COLOR = {
  ok: "green",
  error: "red",
  skipped: "yellow",
  cancelled: "magenta",
  unset: "gray",
} as const;

// Every character sequence a terminal or viewer may take as a line break.
const LINE_BREAK = /\r\n|[\n\r\v\f\u0085\u2028\u2029]/;

/** `(kind)`, `(step: type)` or `(job, no events)`. */
function kindLabel(span: TraceSpan): string {
  if (span.synthetic) return `(${span.kind}, no events)`;
  const type = span.correlation.step_type;
  return span.kind === "step" && type !== undefined && type !== ""
    ? `(step: ${escapeControls(type)})`
    : `(${span.kind})`;
}

/** The flow log as text: header, span tree, events outside spans, summary. */
export function renderFlow(log: FlowLog, color: boolean): string {
  const spans = collectSpans(log.events);
  const s = log.summary;
  const lines: string[] = [];
  lines.push(
    `flow ${escapeControls(log.flow_id)}  start ${isoTime(s.first_ts_ms)}  duration ${
      humanDuration(s.duration_ms)
    }  events ${s.event_count}  errors ${
      s.error_count > 0 ? paint(color, "red", String(s.error_count)) : "0"
    }`,
  );
  const walk = (node: SpanTreeNode, prefix: string, last: boolean, root: boolean) => {
    const span = node.span;
    const status = span.incomplete ? "incomplete" : span.status;
    const tint = span.incomplete ? "cyan" : STATUS_COLOR[span.status];
    const message = span.status_message === null
      ? ""
      : `  ${paint(color, "red", escapeControls(span.status_message))}`;
    const branch = root ? "" : last ? "└─ " : "├─ ";
    lines.push(
      `${prefix}${branch}${escapeControls(span.name)} ${paint(color, "gray", kindLabel(span))} ${
        paint(color, tint, status)
      } ${humanDuration(span.end_ms - span.start_ms)}  ${span.events.length} events${message}`,
    );
    const childPrefix = root ? prefix : prefix + (last ? "   " : "│  ");
    // The stack's own line breaks, each line escaped: a stack line can only
    // ever be text under its span, never a control sequence or a forged row.
    const stack = errorStackOf(span);
    if (stack !== null) {
      const gutter = childPrefix + (node.children.length > 0 ? "│ " : "  ");
      for (const line of stack.split(LINE_BREAK)) {
        if (line.trim() !== "") lines.push(gutter + paint(color, "gray", escapeControls(line)));
      }
    }
    node.children.forEach((child, i) =>
      walk(child, childPrefix, i === node.children.length - 1, false)
    );
  };
  for (const root of spanTree(spans)) walk(root, "", true, true);
  const inSpans = spans.reduce((n, span) => n + span.events.length, 0);
  if (inSpans < log.events.length) {
    lines.push(`${log.events.length - inSpans} events outside any span`);
  }
  const levels = Object.entries(s.by_level).map(([level, n]) => `${level} ${n}`).join(", ");
  lines.push(`levels: ${levels}`);
  const top = Object.entries(s.by_event).sort((a, b) => b[1] - a[1]).slice(0, 10)
    .map(([event, n]) => `${escapeControls(event)} ${n}`).join(", ");
  lines.push(`events: ${top}`);
  return lines.join("\n") + "\n";
}

/** Runs `show`. */
export function showCommand(args: string[], io: CliIo): number {
  const { values, positionals: given } = parseFlags("show", args, { json: { type: "boolean" } });
  const [dir, flowId] = positionals("show", given, ["store dir", "flow"]);
  const store = openStore(dir!);
  try {
    const log = store.getFlowLog(flowId!);
    if (log.events.length === 0) {
      throw unknownFlow(dir!, flowId!);
    }
    if (values.json) {
      const strip = (node: SpanTreeNode): unknown => {
        const { events, start_event: _s, end_event: _e, ...rest } = node.span;
        return { ...rest, event_count: events.length, children: node.children.map(strip) };
      };
      const tree = spanTree(collectSpans(log.events)).map(strip);
      io.out.write(
        prettyJson({ flow_id: log.flow_id, summary: log.summary, spans: tree }) + "\n",
      );
    } else {
      io.out.write(renderFlow(log, io.outIsTty));
    }
    return damageExit(io, dir!, store.stats());
  } finally {
    store.close();
  }
}
