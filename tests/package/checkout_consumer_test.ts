/**
 * This checkout used from another Deno project, as JSR users will use the
 * package and as a path or git import does today: a project whose deno.json
 * maps `"flightlog"` to the checkout's `mod.ts` runs and type-checks (Deno
 * resolves the checkout's own imports through its deno.json, and fetches
 * the npm packages into its cache), and `deno install -g` puts the CLI on
 * PATH with the permissions the README gives.
 */
import assert from "node:assert/strict";
import { DENO_MAIN_PRINTS, inheritsProject, ok, run, runDenoMain } from "./_project.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("a Deno project mapping flightlog to this checkout runs, checks, and installs the CLI", async () => {
  const project = await Deno.makeTempDir({ prefix: "flightlog-deno-project-" });
  try {
    assert.equal(await inheritsProject(project), null, "the project inherits nothing");
    await Deno.writeTextFile(
      `${project}/deno.json`,
      JSON.stringify({ imports: { flightlog: `${ROOT}mod.ts` } }),
    );
    const r = await runDenoMain(project);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(JSON.parse(r.stdout), DENO_MAIN_PRINTS);
    await ok(Deno.execPath(), ["check", "main.ts"], project);

    // The README's install line, into a root of its own instead of ~/.deno.
    await ok(Deno.execPath(), [
      "install",
      "--global",
      "--root",
      `${project}/tools`,
      "--allow-read",
      "--allow-write",
      "--name",
      "flightlog",
      `${ROOT}src/cli/main.ts`,
    ], project);
    const denoDir = Deno.execPath().slice(0, Deno.execPath().lastIndexOf("/"));
    const flows = await run(`${project}/tools/bin/flightlog`, ["flows", "store"], project, {
      PATH: `${denoDir}:/usr/bin:/bin`,
    });
    assert.equal(flows.code, 0, flows.out);
    assert.match(flows.stdout, /^f-1\s+running/m);
  } finally {
    await Deno.remove(project, { recursive: true });
  }
});

Deno.test("flightlog imported from https-like URLs, as JSR serves it, starts its worker", async () => {
  // JSR serves the published files at https URLs, with bare imports rewritten to the npm:
  // specifiers of deno.json's imports: a local server and that import map do the same here.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (!/^\/(mod\.ts|(src|workers)\/[\w/]+\.ts)$/.test(path)) {
      return new Response("not found", { status: 404 });
    }
    const body = await Deno.readFile(`${ROOT}${path.slice(1)}`);
    return new Response(body, { headers: { "content-type": "application/typescript" } });
  });
  const host = `127.0.0.1:${server.addr.port}`;
  const project = await Deno.makeTempDir({ prefix: "flightlog-remote-" });
  try {
    const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
    const imports = { ...config.imports, flightlog: `http://${host}/mod.ts` };
    await Deno.writeTextFile(`${project}/deno.json`, JSON.stringify({ imports }));
    const r = await runDenoMain(project, [`--allow-import=${host}`]);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(JSON.parse(r.stdout), DENO_MAIN_PRINTS);
  } finally {
    await server.shutdown();
    await Deno.remove(project, { recursive: true });
  }
});
