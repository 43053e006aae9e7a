/**
 * `flightlog view <dir> <flow> -o timeline.html`: writes the flow's timeline
 * as a self-contained HTML page (`timeline_html.ts`).
 *
 * @module
 */
import { renderTimelineHtml } from "../export/timeline_html.ts";
import {
  CliError,
  type CliIo,
  damageExit,
  errorText,
  EXIT,
  openStore,
  parseFlags,
  positionals,
  unknownFlow,
} from "./_common.ts";

/** Runs `view`. */
export function viewCommand(args: string[], io: CliIo): number {
  const { values, positionals: given } = parseFlags("view", args, {
    output: { type: "string", short: "o" },
  });
  const [dir, flowId] = positionals("view", given, ["store dir", "flow"]);
  const output = values.output;
  if (output === undefined) {
    throw new CliError(
      "Missing -o <file>: give the page to write, e.g. -o timeline.html (or -o - for stdout)",
      EXIT.usage,
    );
  }
  const store = openStore(dir!);
  try {
    const log = store.getFlowLog(flowId!);
    if (log.events.length === 0) {
      throw unknownFlow(dir!, flowId!);
    }
    const html = renderTimelineHtml(log);
    if (output === "-") {
      io.out.write(html);
    } else {
      try {
        Deno.writeTextFileSync(output, html);
      } catch (error) {
        throw new CliError(
          `Cannot write ${output} (${errorText(error)}): check the path and its permissions`,
        );
      }
      io.err(`Wrote ${output} (${log.events.length} events): open it in a browser`);
    }
    return damageExit(io, dir!, store.stats());
  } finally {
    store.close();
  }
}
