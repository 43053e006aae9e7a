/**
 * flightlog on Node.js, as a Node.js user gets it: the package's Node.js
 * modules are built (`buildNode()`, as `npm pack` builds them) into a staged
 * copy of the package, packed with `npm pack`, installed into a temporary
 * project that has nothing else of flightlog's, and tested there by
 * `node --test` (the files in `tests/platform/node/`, copied beside the
 * project's `node_modules`). The browser bundles and declarations are left
 * out of this tarball to keep the run short; the whole tarball is
 * tests/package/consumer_test.ts's.
 */
import assert from "node:assert/strict";
import { buildDeno, buildNode } from "../../scripts/build.ts";
import { ok, run } from "../package/_project.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const NODE_TESTS = new URL("./node/", import.meta.url).pathname;

/** Copies `from` into `to`, recursively. */
async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

Deno.test("node --test passes over the packed package installed in a Node.js project", async () => {
  const work = await Deno.makeTempDir({ prefix: "flightlog-node-" });
  try {
    const staged = `${work}/package`;
    await copyDir(`${ROOT}bin`, `${staged}/bin`);
    for (const file of ["package.json", "README.md", "LICENSE"]) {
      await Deno.copyFile(`${ROOT}${file}`, `${staged}/${file}`);
    }
    await buildNode(`${staged}/dist/node`);
    // The bin starts the CLI with Deno from these modules.
    await buildDeno(`${staged}/dist/deno`);
    const out = await ok("npm", [
      "pack",
      "--json",
      "--ignore-scripts",
      "--pack-destination",
      work,
    ], staged);
    const tarball = `${work}/${JSON.parse(out)[0].filename}`;

    const project = `${work}/project`;
    await Deno.mkdir(project);
    await Deno.writeTextFile(
      `${project}/package.json`,
      JSON.stringify({ name: "node-consumer", private: true, type: "module" }),
    );
    await ok("npm", [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--ignore-scripts",
      tarball,
    ], project);
    await copyDir(NODE_TESTS, `${project}/test`);

    const files = [];
    for await (const entry of Deno.readDir(NODE_TESTS)) {
      if (entry.isFile && !entry.name.startsWith("_")) files.push(`test/${entry.name}`);
    }
    const r = await run("node", ["--test", "--test-concurrency=2", ...files.sort()], project, {
      FLIGHTLOG_REPO: ROOT,
      FLIGHTLOG_DENO: Deno.execPath(),
    });
    assert.equal(r.code, 0, r.out);
    // Every file ran, and no test was skipped or left pending.
    assert.match(r.out, /^# fail 0$/m, r.out);
    assert.match(r.out, /^# skipped 0$/m, r.out);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
