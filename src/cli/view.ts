/**
 * `flightlog view <dir> <flow> -o timeline.html`: writes the flow's timeline
 * as a self-contained HTML page (`timeline_html.ts`), with its per-node
 * table; with `--runs N`, a page of the per-node table over the flow's last
 * N runs instead, with a duration histogram per node (`node_table_html.ts`).
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { renderTimelineHtml } from "../export/timeline_html.ts";
import { renderNodeRunsHtml } from "../export/node_table_html.ts";
import type { SegmentStore } from "../store/segment_store.ts";
import {
  CliError,
  type CliIo,
  damageExit,
  errorText,
  EXIT,
  openStore,
  parseCount,
  parseFlags,
  positionals,
  queryPages,
  unknownFlow,
} from "./_common.ts";

/** Runs `view`. */
export function viewCommand(args: string[], io: CliIo): number {
  const { values, positionals: given } = parseFlags("view", args, {
    output: { type: "string", short: "o" },
    runs: { type: "string" },
  });
  const [dir, flowId] = positionals("view", given, ["store dir", "flow"]);
  const output = values.output;
  if (output === undefined) {
    throw new CliError(
      "Missing -o <file>: give the page to write, e.g. -o timeline.html (or -o - for stdout)",
      EXIT.usage,
    );
  }
  const runs = parseCount("runs", values.runs, 0);
  if (values.runs !== undefined && runs === 0) {
    throw new CliError(
      "Invalid --runs 0: give the number of last runs to show, 1 or more",
      EXIT.usage,
    );
  }
  const store = openStore(dir!);
  try {
    const { html, what } = runs > 0
      ? runsPage(store, dir!, flowId!, runs)
      : timelinePage(store, dir!, flowId!);
    if (output === "-") {
      io.out.write(html);
    } else {
      try {
        writeFileSync(output, html);
      } catch (error) {
        throw new CliError(
          `Cannot write ${output} (${errorText(error)}): check the path and its permissions`,
        );
      }
      io.err(`Wrote ${output} (${what}): open it in a browser`);
    }
    return damageExit(io, dir!, store.stats());
  } finally {
    store.close();
  }
}

function timelinePage(store: SegmentStore, dir: string, flowId: string) {
  const log = store.getFlowLog(flowId);
  if (log.events.length === 0) throw unknownFlow(dir, flowId);
  return { html: renderTimelineHtml(log), what: `${log.events.length} events` };
}

function runsPage(store: SegmentStore, dir: string, flowId: string, runs: number) {
  // Runs in the order they started; a run_start without run_id names no run.
  const started = new Set<string>();
  for (const events of queryPages(store, { flow_id: flowId, event: "run_start" })) {
    for (const event of events) {
      const runId = event.fields.run_id;
      if (typeof runId !== "string") continue;
      started.delete(runId);
      started.add(runId);
    }
  }
  if (started.size === 0) {
    if (store.query({ flow_id: flowId, limit: 1 }).events.length === 0) {
      throw unknownFlow(dir, flowId);
    }
    throw new CliError(
      `Flow ${
        JSON.stringify(flowId)
      } in ${dir} has no run_start event with a run_id: --runs needs runs recorded with observeRun(); view it without --runs`,
    );
  }
  const last = [...started].slice(-runs);
  const entries = store.nodeStats({ flow_id: flowId, run_id: last }).entries();
  const executions = entries.reduce((n, e) => n + e.row.count, 0);
  return {
    html: renderNodeRunsHtml(flowId, last, entries),
    what: `${last.length} runs, ${entries.length} nodes, ${executions} executions`,
  };
}
