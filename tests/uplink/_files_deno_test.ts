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
    files.close();
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

Deno.test("denoUplinkFiles() overwrites the position in place between durable saves", async () => {
  const dir = await Deno.makeTempDir();
  const files = denoUplinkFiles(dir);
  try {
    files.saveCursor("logs", { seq: 1, skip: 0 }, false);
    const inode = Deno.statSync(`${dir}/uplink-logs.cursor`).ino;
    // Longest to shortest: the fixed width leaves nothing of the longer text behind.
    files.saveCursor("logs", { seq: 999_999_999_999_999, skip: 999_999_999_999_999 }, false);
    files.saveCursor("logs", { seq: 2, skip: 3 }, false);
    assert.deepEqual(denoUplinkFiles(dir).loadCursor("logs"), { seq: 2, skip: 3 });
    assert.equal(Deno.statSync(`${dir}/uplink-logs.cursor`).size, 32);
    if (inode !== null) {
      assert.equal(Deno.statSync(`${dir}/uplink-logs.cursor`).ino, inode, "same file, no rename");
    }
    files.saveCursor("logs", { seq: 4, skip: 0 }, true);
    files.saveCursor("logs", { seq: 5, skip: 0 }, false);
    assert.deepEqual(
      denoUplinkFiles(dir).loadCursor("logs"),
      { seq: 5, skip: 0 },
      "after a rename",
    );
    // An old-format file (no padding) is overwritten whole.
    files.close();
    Deno.writeTextFileSync(`${dir}/uplink-logs.cursor`, "123456789012345 123456789012345\n");
    files.saveCursor("logs", { seq: 6, skip: 1 }, false);
    assert.deepEqual(denoUplinkFiles(dir).loadCursor("logs"), { seq: 6, skip: 1 });
  } finally {
    files.close();
    await Deno.remove(dir, { recursive: true });
  }
});
