import assert from "node:assert/strict";
import {
  crc32c,
  encodeFileHeader,
  FILE_HEADER,
  FILE_HEADER_SIZE,
  FILE_HEADER_SIZE_V2,
} from "../../src/store/segment_format.ts";
import { readSegmentHead } from "../../src/store/segment_head.ts";

const LINK = { previous: 6, previousBytes: 4096, previousEvents: 81, firstSeq: 41 };

function header(segment: number): Uint8Array {
  return encodeFileHeader({ segment, createdMs: 1, writerId: new Uint8Array(8), link: LINK });
}

/** A file of `records` bytes after a header of segment 7. */
function segmentFile(records = 100): Uint8Array {
  const bytes = new Uint8Array(FILE_HEADER_SIZE + records);
  bytes.set(header(7));
  return bytes;
}

Deno.test("readSegmentHead() reads the records of an intact header from its end", () => {
  const head = readSegmentHead(segmentFile(), 7, false);
  assert.equal(head.kind, "intact");
  assert.ok(head.kind === "intact");
  assert.equal(head.start, FILE_HEADER_SIZE);
  assert.deepEqual(head.header.link, LINK);
});

Deno.test("readSegmentHead() reads the records of a damaged header from the size it declares", () => {
  const bytes = segmentFile();
  bytes[FILE_HEADER.createdMs]! ^= 1;
  assert.deepEqual(readSegmentHead(bytes, 7, false), { kind: "damaged", start: FILE_HEADER_SIZE });
  bytes[FILE_HEADER.headerSize]! ^= 0xff;
  assert.deepEqual(readSegmentHead(bytes, 7, true), {
    kind: "damaged",
    start: FILE_HEADER_SIZE_V2,
  });
  assert.deepEqual(readSegmentHead(bytes.subarray(0, 10), 7, false), {
    kind: "damaged",
    start: 10,
  });
});

Deno.test("readSegmentHead() ignores a copy of another segment and an unknown version", () => {
  assert.equal(readSegmentHead(segmentFile(), 8, false).kind, "copy");
  const future = segmentFile();
  future[FILE_HEADER.version] = 9;
  const view = new DataView(future.buffer);
  view.setUint32(FILE_HEADER.crc, crc32c(future.subarray(0, FILE_HEADER.crc)), true);
  assert.equal(readSegmentHead(future, 7, false).kind, "unsupported");
});

Deno.test("readSegmentHead() takes only the newest segment cut inside its header as unfinished", () => {
  const cut = segmentFile().subarray(0, FILE_HEADER_SIZE - 1);
  assert.deepEqual(readSegmentHead(cut, 7, true), { kind: "unfinished" });
  assert.equal(readSegmentHead(cut, 7, false).kind, "damaged");
});
