/**
 * The uplink's files on `node:fs` (Node.js's) against Deno's: the same
 * cursor bytes and dead letters, so a store moves between runtimes with its
 * delivery position. Run under Deno, whose `node:fs` these calls reach.
 */
import assert from "node:assert/strict";
import { denoUplinkFiles } from "../../src/uplink/_files_deno.ts";
import { nodeUplinkFiles } from "../../src/uplink/_files_node.ts";

/** Every file under `dir`, by path relative to it. */
function tree(dir: string, under = ""): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const entry of Deno.readDirSync(`${dir}/${under}`)) {
    const path = `${under}${entry.name}`;
    if (entry.isDirectory) { for (const [p, b] of tree(dir, `${path}/`)) out.set(p, b); }
    else out.set(path, Deno.readFileSync(`${dir}/${path}`));
  }
  return out;
}

Deno.test("nodeUplinkFiles() writes what denoUplinkFiles() writes, and each loads the other's", async () => {
  const a = await Deno.makeTempDir();
  const b = await Deno.makeTempDir();
  try {
    for (const [dir, open] of [[a, nodeUplinkFiles], [b, denoUplinkFiles]] as const) {
      const files = open(dir);
      assert.equal(files.loadCursor("logs"), null);
      files.saveCursor("logs", { seq: 41, skip: 0 }, true);
      files.saveCursor("logs", { seq: 123456789012345, skip: 100 }, false);
      files.saveCursor("logs", { seq: 42, skip: 3 }, false);
      files.saveCursor("traces", { seq: 7, skip: 0 }, true);
      for (let i = 0; i < 66; i++) {
        files.writeDeadLetter(`${String(i).padStart(12, "0")}-logs.json`, new Uint8Array([i]));
      }
      files.close();
    }
    const fromNode = tree(a);
    assert.equal(fromNode.size, 2 + 64);
    assert.deepEqual(fromNode, tree(b));
    assert.deepEqual(denoUplinkFiles(a).loadCursor("logs"), { seq: 42, skip: 3 });
    assert.deepEqual(nodeUplinkFiles(b).loadCursor("traces"), { seq: 7, skip: 0 });
  } finally {
    await Deno.remove(a, { recursive: true });
    await Deno.remove(b, { recursive: true });
  }
});

Deno.test("nodeUplinkFiles() reads a damaged cursor file as no position", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const text of ["", "garbage", "-5 0", "1.5"]) {
      Deno.writeTextFileSync(`${dir}/uplink-logs.cursor`, text);
      assert.equal(nodeUplinkFiles(dir).loadCursor("logs"), null, JSON.stringify(text));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
