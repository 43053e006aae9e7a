#!/usr/bin/env node
// npm's `flightlog` command. The CLI reads stores with Deno's file APIs, so
// under Node.js this only starts it with Deno (DENO_BIN, else `deno` from
// PATH, which npx and npm scripts extend with node_modules/.bin) and passes
// its exit on.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/deno/cli.js", import.meta.url));
// All the CLI needs: it reads stores, writes exports (`-o`), and `bench` names the CPU.
const args = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-sys=cpus",
  "--no-prompt",
  cli,
  ...process.argv.slice(2),
];

const child = spawn(process.env.DENO_BIN || "deno", args, { stdio: "inherit" });
child.on("error", (err) => {
  console.error(
    err.code === "ENOENT"
      ? "flightlog: the CLI runs on Deno, which was not found: install it " +
        "(npm install -g deno, or https://docs.deno.com/runtime/getting_started/installation/) " +
        "or set DENO_BIN to its path"
      : `flightlog: could not start Deno: ${err.message}`,
  );
  process.exitCode = 1;
});
child.on("exit", (code, signal) => {
  if (signal === null) process.exit(code ?? 1);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
});
// The CLI ends `tail -f` cleanly on SIGINT or SIGTERM: hand them on and wait for it.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
