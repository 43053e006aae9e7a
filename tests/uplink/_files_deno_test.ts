import assert from "node:assert/strict";
import { denoUplinkFiles } from "../../src/uplink/_files_deno.ts";

Deno.test("denoUplinkFiles() saves and loads a position per signal, replacing it whole", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files = denoUplinkFiles(dir);
    assert.equal(files.loadCursor("logs"), null);
    files.saveCursor("logs", { seq: 41, skip: 0 }, true);
    files.saveCursor("logs", { seq: 42, skip: 100 }, false);
    files.saveCursor("traces", { seq: 7, skip: 0 }, true);
    assert.deepEqual(denoUplinkFiles(dir).loadCursor("logs"), { seq: 42, skip: 100 });
    assert.deepEqual(denoUplinkFiles(dir).loadCursor("traces"), { seq: 7, skip: 0 });
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(
      names,
      ["uplink-logs.cursor", "uplink-traces.cursor"],
      "no temporary file left",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("denoUplinkFiles() reads a damaged cursor file as no position", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const text of ["", "garbage", "-5 0", "1.5"]) {
      Deno.writeTextFileSync(`${dir}/uplink-logs.cursor`, text);
      assert.equal(denoUplinkFiles(dir).loadCursor("logs"), null, JSON.stringify(text));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("denoUplinkFiles() keeps the newest 64 dead letters", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files = denoUplinkFiles(dir);
    for (let i = 0; i < 70; i++) {
      files.writeDeadLetter(`${String(i).padStart(12, "0")}-logs-${i}.json`, new Uint8Array([i]));
    }
    const names = [...Deno.readDirSync(`${dir}/dead-letter`)].map((e) => e.name).sort();
    assert.equal(names.length, 64);
    assert.ok(names[0]!.startsWith("000000000006-"), names[0]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
