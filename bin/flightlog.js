#!/usr/bin/env node
// npm's `flightlog` command. The CLI reads the store with Deno's file APIs,
// so under Node.js this only starts it with Deno (DENO_BIN, else `deno` from
// PATH, else the `deno` npm package when installed) and passes its exit on.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../dist/deno/cli.js", import.meta.url));
// What the CLI needs: it reads stores and writes exports (the README's CLI section).
const args = ["run", "--allow-read", "--allow-write", "--no-prompt", cli, ...process.argv.slice(2)];

function denoPackage() {
  try {
    return createRequire(import.meta.url).resolve("deno/bin.cjs");
  } catch {
    return null;
  }
}

let child = null;

function start(command, commandArgs, fallback) {
  child = spawn(command, commandArgs, { stdio: "inherit" });
  child.on("error", (err) => {
    if (err.code === "ENOENT" && fallback !== null) return fallback();
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
}

// The CLI ends `tail -f` cleanly on SIGINT or SIGTERM: hand them on and wait for it.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child?.kill(signal));

const pkg = denoPackage();
start(
  process.env.DENO_BIN ?? "deno",
  args,
  pkg === null ? null : () => start(process.execPath, [pkg, ...args], null),
);
