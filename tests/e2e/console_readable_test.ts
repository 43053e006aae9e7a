/**
 * The console a person reads, through mod.ts in a real process: each line
 * starts with its time (ISO or since start), errors and nested objects are
 * JSON objects, the pretty format (FLIGHTLOG_FORMAT=pretty, and the default
 * on a terminal, run under a pseudo-terminal by `script`) shows bound ids on
 * a header and stacks on indented lines, and no value forges a line in any
 * format.
 */
import assert from "node:assert/strict";
import { FORGED } from "./fixtures/console_readable.ts";
import { ISO_TIME, LINE_BREAK, parseConsoleLine } from "../support/text_line.ts";

const fixture = new URL("./fixtures/console_readable.ts", import.meta.url).pathname;
// Built from text: a control character in a regex literal is what the linter forbids.
const ANSI = new RegExp(String.raw`\x1b\[[0-9;]*m`, "g");
const ARGS = ["run", "--allow-read", "--allow-write", "--allow-env", fixture];

async function run(consoleOption: unknown, env: Record<string, string>): Promise<string[]> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-console-" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...ARGS, dir, JSON.stringify(consoleOption)],
      env: { NO_COLOR: "", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const lines = stderr.split(LINE_BREAK);
    assert.equal(lines.pop(), "");
    return lines;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("console text through mod.ts: ISO times, errors as JSON objects, no forged line", async () => {
  const lines = await run(true, { FLIGHTLOG_FORMAT: "text" });
  assert.equal(lines.length, 5, lines.join("\n"));
  const parsed = lines.map(parseConsoleLine);
  for (const [time] of parsed) assert.match(time, ISO_TIME);
  assert.deepEqual(parsed.map(([, event]) => event), [
    "boot",
    "run_start",
    "step_failed",
    FORGED,
    "done",
  ]);
  const [, , failed] = parsed[2]!;
  assert.deepEqual(failed.map(([k]) => k), ["level", "flow_id", "run_id", "err", "ctx"]);
  const err = JSON.parse(failed[3]![1]);
  assert.equal(err.name, "Error");
  assert.equal(err.message, `disk full ${FORGED}`);
  assert.match(err.stack, /^Error: disk full ok\n/);
  assert.deepEqual({ name: err.cause.name, message: err.cause.message }, {
    name: "TypeError",
    message: "quota",
  });
  assert.deepEqual(JSON.parse(failed[4]![1]), { path: "/tmp/a b", tries: [1, 2] });
  // The forged line's fields: its real level, then the field named level.
  assert.deepEqual(parsed[3]![2].map(([k, v]) => [k, v]), [
    ["level", "warn"],
    ["flow_id", "demo"],
    ["run_id", "r-1"],
    ["fields.level", "fatal"],
    ["v", FORGED],
  ]);
});

Deno.test("console text through mod.ts: console.time elapsed and false", async () => {
  const elapsed = await run({ format: "text", time: "elapsed" }, {});
  assert.equal(elapsed.length, 5);
  for (const line of elapsed) assert.match(line, /^\+\d+\.\d{3}s \S/);
  const none = await run({ format: "text", time: false }, {});
  assert.match(none[0]!, /^boot port=8080$/);
});

Deno.test("console JSON through mod.ts: one object per event, the error as an object", async () => {
  const lines = await run(true, { FLIGHTLOG_FORMAT: "json" });
  const objects = lines.map((l) => JSON.parse(l));
  assert.deepEqual(objects.map((o) => [o.level, o.event]), [
    ["info", "boot"],
    ["info", "run_start"],
    ["error", "step_failed"],
    ["warn", FORGED],
    ["info", "done"],
  ]);
  assert.equal(objects[2].err.message, `disk full ${FORGED}`);
  assert.equal(objects[3]["fields.level"], "fatal");
});

// Every line: an event line (time, level), a header, or an indented stack line.
const PRETTY_LINE = /^(?:\S+ (?:TRACE|DEBUG|INFO |WARN |ERROR|FATAL) |── | {4})/;

function checkPretty(lines: string[]): void {
  for (const line of lines) assert.match(line, PRETTY_LINE, JSON.stringify(line));
  const events = lines.filter((l) => ISO_TIME.test(l.split(" ")[0]!));
  assert.deepEqual(events.map((l) => /^\S+ (\S+ +\S+)/.exec(l)?.[1]), [
    "INFO  boot",
    "INFO  run_start",
    "ERROR step_failed",
    'WARN  "ok\\n2023-11-14T22:13:20.000Z',
    "INFO  done",
  ]);
  const headers = lines.filter((l) => l.startsWith("── "));
  assert.deepEqual(headers, ["── flow_id=demo run_id=r-1", "── (no bound ids)"]);
  // Bound ids are on the header, not on the run's lines.
  assert.ok(events.every((l) => !l.includes("flow_id=demo") && !l.includes("run_id=")));
  const failed = lines.findIndex((l) => l.includes(" step_failed "));
  assert.match(
    lines[failed]!,
    / err=\{"name":"Error","message":"disk full ok\\n.*"cause":\{"name":"TypeError","message":"quota"\}\} ctx=\{"path":"\/tmp\/a b","tries":\[1,2\]\}$/,
  );
  assert.match(lines[failed + 1]!, /^ {4}err: Error: disk full ok$/);
  // The forged text inside the stack stays on the stack's indented lines.
  assert.match(
    lines[failed + 2]!,
    /^ {4}2023-11-14T22:13:20\.000Z ERROR fake level=fatal\\r\\u2028── flow_id=x$/,
  );
  assert.ok(lines.some((l) => /^ {8}at /.test(l)));
  assert.ok(lines.some((l) => /^ {4}err\.cause: TypeError: quota$/.test(l)));
}

Deno.test("console pretty through mod.ts: FLIGHTLOG_FORMAT=pretty, no color off a terminal", async () => {
  const lines = await run(true, { FLIGHTLOG_FORMAT: "pretty" });
  assert.ok(!lines.join("\n").includes("\x1b"));
  checkPretty(lines);
});

Deno.test("console pretty through mod.ts: the default on a terminal, in color unless NO_COLOR", async () => {
  // `script` runs the fixture under a pseudo-terminal (util-linux).
  const script = await new Deno.Command("script", {
    args: ["--version"],
    stdout: "null",
    stderr: "null",
  })
    .output().catch(() => null);
  if (script === null || !script.success) {
    throw new Error("This test needs util-linux's script (Debian package bsdutils)");
  }
  for (const noColor of ["", "1"]) {
    const dir = await Deno.makeTempDir({ prefix: "flightlog-console-" });
    try {
      const cmd = [Deno.execPath(), ...ARGS, dir, "true"].map((a) => `'${a}'`).join(" ");
      const out = await new Deno.Command("script", {
        args: ["-qec", cmd, "/dev/null"],
        env: { NO_COLOR: noColor, FLIGHTLOG_FORMAT: "" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, text);
      const lines = text.split("\r\n");
      assert.equal(lines.pop(), "");
      if (noColor === "") {
        assert.ok(text.includes("\x1b[31mERROR\x1b[0m step_failed"), "the level in color");
        checkPretty(lines.map((l) => l.replace(ANSI, "")));
      } else {
        assert.ok(!text.includes("\x1b"), "NO_COLOR: no ANSI escape");
        checkPretty(lines);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
