/**
 * `flightlog bench`: the JSON report field by field, the text report, the
 * progress on stderr, the temporary store removed, bad flags refused.
 */
import assert from "node:assert/strict";
import { cpuModelOf } from "../../src/platform/_cpuinfo.ts";
import { assertOverheadReport } from "../support/overhead_report.ts";
import { withTempDir } from "../support/temp_dir.ts";
import { cli, type CliRun, cliWithEnv, oneLine } from "./_run.ts";

/** `flightlog bench <args>` with TMPDIR set to `tmp`, where its temporary store must go. */
function bench(tmp: string, ...args: string[]): Promise<CliRun> {
  return cliWithEnv({ TMPDIR: tmp }, "bench", ...args);
}

async function cpuinfoModel(): Promise<string | null> {
  try {
    return cpuModelOf(await Deno.readTextFile("/proc/cpuinfo"));
  } catch {
    return null;
  }
}

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name);
}

Deno.test("flightlog bench --json prints the documented report and removes its store", async () => {
  await withTempDir(async (tmp) => {
    const run = await bench(tmp, "--json", "--seconds", "0.2");
    assert.equal(run.code, 0, run.stderr);
    const report = assertOverheadReport(JSON.parse(run.stdout), "deno");
    assert.equal(report.seconds, 0.2);
    const cpu = report.cpu as { logical_cpus: number; model: string };
    assert.equal(cpu.logical_cpus, navigator.hardwareConcurrency);
    // The CLI's permissions name the CPU where Linux says it.
    const named = await cpuinfoModel();
    if (named !== null) assert.equal(cpu.model, named);
    const store = (report.figures as { end_to_end: { store: string } }).end_to_end.store;
    assert.ok(store.startsWith(`${tmp}/flightlog-bench-`), store);
    assert.deepEqual(entries(tmp), []);
    // Progress: a line as the run starts, then one per figure.
    const lines = run.stderr.trimEnd().split("\n");
    assert.equal(lines.length, 8, run.stderr);
    assert.match(lines[0]!, /^flightlog bench: measuring for about 0\.2 s/);
    lines.slice(1).forEach((line, i) =>
      assert.match(line, new RegExp(`^flightlog bench: \\[${i + 1}/7\\] `))
    );
  });
});

Deno.test("flightlog bench prints a table for people; -q hides the progress", async () => {
  await withTempDir(async (tmp) => {
    const run = await bench(tmp, "--seconds", "0.2", "-q");
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    assert.match(run.stdout, /^runtime {4}Deno \d+\.\d+\.\d+, V8 /m);
    assert.match(run.stdout, /^cpu {8}.+, \d+ logical CPUs$/m);
    for (
      const row of [
        /^info\(\), 7 ids bound by child\(\) \+ 2 fields +[\d.,]+ +[\d.,]+–[\d.,]+ +\d+$/m,
        /^debug\(\) below the logger's level +[\d.,]+ /m,
        /^observable\(\) sync no-op node .*: overhead +-?[\d.,]+ /m,
        /^info\(\) inside withContext\(\) /m,
        /^end to end [\d,]+ events\/s persisted/m,
      ]
    ) assert.match(run.stdout, row);
    assert.deepEqual(entries(tmp), []);
  });
});

Deno.test("flightlog bench refuses bad flags with a usage error", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--seconds", "0"],
      /Invalid --seconds "0": give the seconds the run may take, from 0\.1 to 3600/,
    ],
    [["--seconds", "abc"], /Invalid --seconds "abc"/],
    [["--seconds", "4000"], /Invalid --seconds "4000"/],
    [["--seconds", ""], /Invalid --seconds ""/],
    [["--seconds"], /--seconds.*flightlog help bench/],
    [["--bogus"], /Unknown option '--bogus'.*flightlog help bench/],
    [[".flightlog"], /Unexpected argument ".flightlog": usage is `flightlog bench `/],
  ];
  for (const [args, message] of cases) {
    const run = await cli("bench", ...args);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.equal(run.stdout, "");
    assert.ok(oneLine(run.stderr), run.stderr);
    assert.match(run.stderr, message);
  }
});

Deno.test("flightlog help bench describes its flags", async () => {
  const run = await cli("help", "bench");
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^flightlog bench \[--json\] \[--seconds N\] \[-q\]/);
  assert.match((await cli("help")).stdout, /^ {2}flightlog bench /m);
});
