/**
 * Figures of the CLI on a store of 1,000,300 events written by the real
 * logger (100 flows × 1,250 steps × 8 events, plus run events): `flows` and
 * `export --format jsonl` run as subprocesses, exactly as a user runs them
 * (wall time, Deno start-up included), and the same work in-process. Three
 * runs each; medians. Prints a Markdown table for docs/performance.md "Command line".
 *
 * Run with `deno task bench-cli` (needs --allow-all for the subprocesses).
 *
 * @module
 */
import { listFlowRows } from "../src/cli/flows.ts";
import { Output } from "../src/cli/_common.ts";
import { payloadToJsonLines } from "../src/export/jsonl.ts";
import { payloadToJsonBytes } from "../src/export/jsonl_transcoder.ts";
import { emptyReadDamage, readStoreRecords } from "../src/export/store_reader.ts";
import { flowStoreEvents, writeFlowStore } from "../tests/support/flow_store.ts";
import { median } from "./_workload.ts";
import process from "node:process";

/** CPU time (user + system) of this process in ms: what the work cost, whatever else runs. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const SHAPE = { flows: 100, steps: 1250, callsPerStep: 6 };
const EVENTS = flowStoreEvents(SHAPE);
const RUNS = 3;
const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

function loadavg(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/** CPU time of each subprocess (user + system, ms), when /usr/bin/time is there to measure it. */
const childCpu: Record<string, number[]> = {};
const TIME = (() => {
  try {
    return Deno.statSync("/usr/bin/time").isFile;
  } catch {
    return false;
  }
})();

async function wall(args: string[]): Promise<number> {
  const deno = [
    Deno.execPath(),
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    MAIN,
    ...args,
  ];
  const t0 = performance.now();
  const out = await new Deno.Command(TIME ? "/usr/bin/time" : deno[0]!, {
    args: TIME ? ["-f", "cpu %U %S", ...deno] : deno.slice(1),
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.code !== 0) throw new Error(stderr);
  const cpu = stderr.match(/cpu ([\d.]+) ([\d.]+)/);
  if (cpu !== null) (childCpu[args[0]!] ??= []).push((Number(cpu[1]) + Number(cpu[2])) * 1000);
  return ms;
}

const dir = await Deno.makeTempDir({ prefix: "flightlog-bench-cli-" });
const target = `${dir}/export.jsonl`;
try {
  console.error(`writing ${EVENTS} events with the logger into ${dir}/store ...`);
  await writeFlowStore(`${dir}/store`, SHAPE);
  const store = `${dir}/store`;
  const before = loadavg();
  const flowsCli: number[] = [];
  const exportCli: number[] = [];
  const flowsIn: number[] = [];
  const exportIn: number[] = [];
  const flowsCpu: number[] = [];
  const exportCpu: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    flowsCli.push(await wall(["flows", store]));
    exportCli.push(await wall(["export", store, "--format", "jsonl", "-o", target]));
    let t0 = performance.now();
    let c0 = cpuMs();
    const { rows } = listFlowRows(store);
    flowsIn.push(performance.now() - t0);
    flowsCpu.push(cpuMs() - c0);
    if (rows.length !== SHAPE.flows) throw new Error(`expected ${SHAPE.flows} flows`);
    t0 = performance.now();
    c0 = cpuMs();
    const file = Deno.openSync(target, { write: true, create: true, truncate: true });
    const out = new Output(file);
    const damage = emptyReadDamage();
    for (const record of readStoreRecords(store, damage)) {
      const bytes = payloadToJsonBytes(record.payload);
      if (bytes === null) out.write(payloadToJsonLines(record.payload));
      else out.writeBytes(bytes);
    }
    out.flush();
    file.close();
    exportIn.push(performance.now() - t0);
    exportCpu.push(cpuMs() - c0);
  }
  const bytes = Deno.statSync(target).size;
  const rate = (ms: number) => Math.round(EVENTS / (ms / 1000)).toLocaleString("en-US");
  const f = (ms: number) => `${Math.round(ms)} ms`;
  const rows = [
    ["`flows` (subprocess, wall, incl. Deno start-up)", f(median(flowsCli)), "≤ 1 s"],
    ["`flows` (subprocess, CPU time)", childCpu.flows ? f(median(childCpu.flows)) : "-", ""],
    ["`flows` work in-process (`listFlowRows`), wall", f(median(flowsIn)), ""],
    ["`flows` work in-process, CPU time", f(median(flowsCpu)), ""],
    [
      "`export --format jsonl -o file` (subprocess, wall)",
      `${f(median(exportCli))} = ${rate(median(exportCli))} events/s`,
      "≥ 500,000 events/s",
    ],
    [
      "`export --format jsonl -o file` (subprocess, CPU time)",
      childCpu.export
        ? `${f(median(childCpu.export))} = ${rate(median(childCpu.export))} events/s`
        : "-",
      "",
    ],
    [
      "export work in-process (read, transcode, write)",
      `${f(median(exportIn))} = ${rate(median(exportIn))} events/s`,
      "",
    ],
    [
      "export work in-process, CPU time",
      `${f(median(exportCpu))} = ${rate(median(exportCpu))} events/s`,
      "",
    ],
  ];
  console.log(
    `store: ${EVENTS} events, ${bytes} bytes of JSON Lines; load average ${before} -> ${loadavg()}`,
  );
  console.log(
    `runs (ms): flows ${flowsCli.map(Math.round)}, in-process ${flowsIn.map(Math.round)}; export ${
      exportCli.map(Math.round)
    }, in-process ${exportIn.map(Math.round)}; CPU flows ${flowsCpu.map(Math.round)}, export ${
      exportCpu.map(Math.round)
    }`,
  );
  console.log("| figure | median of 3 | goal |\n| --- | ---: | --- |");
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
