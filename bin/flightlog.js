#!/usr/bin/env node
// npm's `flightlog` command: the CLI's Node.js build (under Deno, run
// `deno run` on the package's `flightlog/cli` export instead).
import { runNodeCli } from "../dist/node/cli.js";

await runNodeCli();
