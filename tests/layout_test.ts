/**
 * The layout as the architecture: imports run one way, from the front end down to the leaves
 * (docs/internals.md "Layout"). Read from `deno info --json`, the module graph Deno itself builds.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const SRC = new URL("src/", ROOT).href;

/** Folders of `src/` from the leaves up: a file may import only from its own rank or below. */
const RANKS: Record<string, number> = {
  "": 0, // level, event, redact, lifecycle vocabulary, trace context: shared by everything
  wire: 1, // the caller's binary formats: ring and codec
  query: 2, // query types and evaluation over any store's index
  store: 3, // segment files and IndexedDB
  sinks: 4, // console, Prometheus, lifecycle dispatch
  export: 5, // JSON Lines, OTLP, spans, the timeline page
  uplink: 6, // shipping the store to a collector
  worker: 7, // the consumer and the worker's serve loop
  platform: 8, // Deno and browser: workers, files, exit hooks
  transport: 9, // the narrow interface in front of the ring and the worker
  front: 10, // the Logger API on the caller's thread
  integrations: 11, // lifecycle, observable(), @std/log
  bench: 12, // the shared workload and measureOverhead(): what logging costs on this machine
  cli: 13, // the command-line tool
};

interface Graph {
  edges: Map<string, Set<string>>;
}

async function moduleGraph(entries: string[]): Promise<Graph> {
  const edges = new Map<string, Set<string>>();
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT.pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: {
        specifier: string;
        dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
      }[];
    };
    for (const m of info.modules) {
      if (!m.specifier.startsWith(SRC)) continue;
      const to = edges.get(m.specifier) ?? new Set<string>();
      for (const d of m.dependencies ?? []) {
        for (const s of [d.code?.specifier, d.type?.specifier]) {
          if (s !== undefined && s.startsWith(SRC) && s !== m.specifier) to.add(s);
        }
      }
      edges.set(m.specifier, to);
    }
  }
  return { edges };
}

const short = (url: string) => url.slice(SRC.length - "src/".length);
const folderOf = (url: string) => {
  const rest = url.slice(SRC.length);
  const slash = rest.indexOf("/");
  return slash < 0 ? "" : rest.slice(0, slash);
};

const ENTRIES = [
  "mod.ts",
  "src/cli/main.ts",
  "src/cli/node_main.ts",
  "workers/flightlog_worker.ts",
  "workers/flightlog_browser_worker.ts",
  "workers/flightlog_node_worker.ts",
];

Deno.test("src/ has no import loop", async () => {
  const { edges } = await moduleGraph(ENTRIES);
  const loops: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === "open") {
        loops.push([...stack.slice(stack.indexOf(next)), next].map(short).join(" → "));
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  assert.deepEqual(loops, []);
});

Deno.test("src/ imports run from the front end down to the leaves, never up", async () => {
  const { edges } = await moduleGraph(ENTRIES);
  const upward: string[] = [];
  for (const [from, tos] of edges) {
    const rank = RANKS[folderOf(from)];
    assert.ok(rank !== undefined, `${short(from)} is in a folder without a rank`);
    for (const to of tos) {
      const toRank = RANKS[folderOf(to)];
      assert.ok(toRank !== undefined, `${short(to)} is in a folder without a rank`);
      if (toRank > rank) upward.push(`${short(from)} → ${short(to)}`);
    }
  }
  assert.deepEqual(upward, []);
});

Deno.test("src/ keeps at most six files at its root and no file over 900 lines", async () => {
  const rootFiles: string[] = [];
  const long: string[] = [];
  const walk = async (dir: URL, top: boolean) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), false);
      else if (e.name.endsWith(".ts")) {
        if (top) rootFiles.push(e.name);
        const lines = (await Deno.readTextFile(new URL(e.name, dir))).split("\n").length;
        if (lines > 900) long.push(`${new URL(e.name, dir).pathname}: ${lines}`);
      }
    }
  };
  await walk(new URL("src/", ROOT), true);
  assert.ok(rootFiles.length <= 6, `src/ holds ${rootFiles.sort().join(", ")}`);
  assert.deepEqual(long, []);
});
