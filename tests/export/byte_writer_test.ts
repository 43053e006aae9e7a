import assert from "node:assert/strict";
import { ByteWriter } from "../../src/export/byte_writer.ts";

Deno.test("ByteWriter keeps what it wrote when it grows past its first buffer", () => {
  const w = new ByteWriter(4);
  const long = new TextEncoder().encode("x".repeat(40));
  w.ascii("ab");
  w.bytes(new Uint8Array([0x63, 0x64, 0x65]));
  w.byte(0x3a);
  w.bytes(long);
  w.ascii("!");
  assert.equal(w.pos, 47);
  assert.ok(w.buf.length >= 47);
  assert.equal(new TextDecoder().decode(w.buf.subarray(0, w.pos)), `abcde:${"x".repeat(40)}!`);
});

Deno.test("ByteWriter.reserve() grows to the size asked for in one step", () => {
  const w = new ByteWriter(8);
  w.pos = 5;
  const before = w.buf;
  w.reserve(3);
  assert.equal(w.buf, before);
  w.reserve(100);
  assert.equal(w.buf.length, 128);
});
