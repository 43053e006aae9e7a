// Every way a Node.js process ends leaves every logged event on disk,
// without flush(): the end of the script, process.exit(), an uncaught
// exception, an unhandled rejection, SIGTERM and SIGINT (exit code 128 + the
// signal), and a SIGTERM the application handles itself (it decides to end),
// with its listener added after flightlog's import or before it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFlow, runFixture, tempDir } from "./_helpers.mjs";

const EVENTS = 5000;

const CASES = [
  { how: "end", code: 0 },
  { how: "exit", code: 3 },
  { how: "throw", code: 1, stderr: /uncaught on purpose/ },
  { how: "reject", code: 1, stderr: /unhandled on purpose/ },
  { how: "signal", signal: "SIGTERM", code: 143 },
  { how: "signal", signal: "SIGINT", code: 130 },
  { how: "signal-app", signal: "SIGTERM", code: 0, stdout: /application shutdown/ },
  { how: "signal-app-first", signal: "SIGTERM", code: 0, stdout: /application shutdown/ },
];

for (const c of CASES) {
  const name = c.signal === undefined ? c.how : `${c.how} (${c.signal})`;
  test(`${name}: all ${EVENTS} events are on disk, exit code ${c.code}`, async (t) => {
    const dir = await tempDir(t);
    const r = await runFixture("log_then_exit.mjs", [dir, c.how, String(EVENTS)], {
      onLine: (line, child) => {
        if (line === "ready" && c.signal !== undefined) child.kill(c.signal);
      },
    });
    assert.equal(r.code, c.code, `${r.stdout}\n${r.stderr}`);
    if (c.stderr !== undefined) assert.match(r.stderr, c.stderr);
    if (c.stdout !== undefined) assert.match(r.stdout, c.stdout);
    const events = await readFlow(dir, "f-exit");
    assert.equal(events.length, EVENTS);
    assert.deepEqual(events.map((e) => e.fields.i), Array.from({ length: EVENTS }, (_, i) => i));
  });
}
