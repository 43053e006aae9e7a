import assert from "node:assert/strict";
import CRC32C from "crc-32/crc32c.js";
import { SEVERITY } from "../../src/level.ts";
import { packEvents, unpackEvents } from "../../src/store/payload_codec.ts";
import {
  crc32c,
  declaredHeaderSize,
  decodeFileHeader,
  encodeFileHeader,
  EXT_NEGATIVE_ZERO,
  EXT_OWN_PROTO_KEY,
  EXT_WTF8_STRING,
  FILE_HEADER,
  FILE_HEADER_SIZE,
  FILE_HEADER_SIZE_V2,
  FILE_MAGIC,
  FLAG_HAS_FLOW,
  FORMAT_VERSION,
  FORMAT_VERSION_2,
  isFlowId,
  isReadableVersion,
  LOCK_FILE_NAME,
  MAX_FLOW_ID_BYTES,
  MAX_FLOW_ID_LENGTH,
  MAX_PAYLOAD_BYTES,
  parseSegmentFileName,
  RECORD_CRC_START,
  RECORD_HEADER,
  RECORD_HEADER_SIZE,
  RECORD_MAGIC,
  recordSize,
  segmentFileName,
  writeRecord,
} from "../../src/store/segment_format.ts";

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

Deno.test("segment format constants are pinned", () => {
  assert.equal(FORMAT_VERSION, 3);
  assert.equal(FILE_HEADER_SIZE, 80);
  assert.equal(FORMAT_VERSION_2, 2);
  assert.equal(FILE_HEADER_SIZE_V2, 48);
  assert.equal(hex(FILE_MAGIC), "89 46 4c 4f 47 0d 0a 1a");
  assert.deepEqual(FILE_HEADER, {
    magic: 0,
    version: 8,
    headerSize: 10,
    segment: 16,
    createdMs: 24,
    writerId: 32,
    previous: 40,
    previousBytes: 48,
    previousEvents: 56,
    firstSeq: 64,
    crc: 76,
  });
  assert.equal(RECORD_MAGIC, 0x9a0bf7c1);
  assert.equal(RECORD_HEADER_SIZE, 48);
  assert.deepEqual(RECORD_HEADER, {
    magic: 0,
    payloadLength: 4,
    crc: 8,
    flowLength: 12,
    flags: 14,
    maxSeverity: 15,
    seq: 16,
    eventCount: 24,
    errorCount: 28,
    minTs: 32,
    maxTs: 40,
    flowId: 48,
  });
  assert.equal(RECORD_CRC_START, 12);
  assert.equal(FLAG_HAS_FLOW, 1);
  assert.equal(MAX_PAYLOAD_BYTES, 268_435_456);
  assert.equal(MAX_FLOW_ID_BYTES, 65_535);
  assert.equal(MAX_FLOW_ID_LENGTH, 21_845);
  assert.equal(EXT_NEGATIVE_ZERO, 0x2d);
  assert.equal(EXT_OWN_PROTO_KEY, 0x5f);
  assert.equal(EXT_WTF8_STRING, 0x57);
  assert.equal(LOCK_FILE_NAME, "lock");
  assert.equal(SEVERITY.error, 17);
});

const LINK = { previous: 0x1233, previousBytes: 4096, previousEvents: 81, firstSeq: 41 };

Deno.test("encodeFileHeader() writes the documented bytes", () => {
  const bytes = encodeFileHeader({
    segment: 0x1234,
    createdMs: 1_700_000_000_000,
    writerId: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
    link: LINK,
  });
  assert.equal(
    hex(bytes),
    [
      // magic, version 3, header size 80, reserved
      "89 46 4c 4f 47 0d 0a 1a 03 00 50 00 00 00 00 00",
      // segment 0x1234, created at 1.7e12 ms, writer id
      "34 12 00 00 00 00 00 00 00 00 80 56 fe bc 78 42 01 02 03 04 05 06 07 08",
      // previous 0x1233, its 4096 bytes and 81 events, first seq 41
      "33 12 00 00 00 00 00 00 00 10 00 00 00 00 00 00",
      "51 00 00 00 00 00 00 00 29 00 00 00 00 00 00 00",
      // reserved, CRC
      "00 00 00 00 b3 6f 02 7e",
    ].join(" "),
  );
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(76, true), CRC32C.buf(bytes.subarray(0, 76)) >>> 0);
  assert.deepEqual(decodeFileHeader(bytes), {
    version: 3,
    size: 80,
    segment: 0x1234,
    createdMs: 1_700_000_000_000,
    writerId: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
    link: LINK,
  });
});

/** A version 2 header as the previous writer wrote it (its golden bytes). */
const V2_HEADER = Uint8Array.from(
  (
    "89 46 4c 4f 47 0d 0a 1a 02 00 30 00 00 00 00 00 34 12 00 00 00 00 00 00 " +
    "00 00 80 56 fe bc 78 42 01 02 03 04 05 06 07 08 00 00 00 00 0e 03 9f e5"
  ).split(" "),
  (b) => parseInt(b, 16),
);

Deno.test("decodeFileHeader() reads a version 2 header, without a link", () => {
  assert.deepEqual(decodeFileHeader(V2_HEADER), {
    version: 2,
    size: 48,
    segment: 0x1234,
    createdMs: 1_700_000_000_000,
    writerId: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
    link: null,
  });
  assert.ok(isReadableVersion(2) && isReadableVersion(3) && !isReadableVersion(4));
});

Deno.test("decodeFileHeader() rejects every single flipped bit and a short header, of both versions", () => {
  const v3 = encodeFileHeader({
    segment: 7,
    createdMs: 5,
    writerId: new Uint8Array(8),
    link: LINK,
  });
  for (const bytes of [v3, V2_HEADER]) {
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const copy = bytes.slice();
      copy[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(decodeFileHeader(copy), null, `version ${bytes[8]} bit ${bit}`);
    }
    assert.equal(decodeFileHeader(bytes.subarray(0, bytes.length - 1)), null);
  }
});

Deno.test("decodeFileHeader() decodes a header of an unknown version, so it is told from damage", () => {
  const bytes = new Uint8Array(64);
  bytes.set(FILE_MAGIC);
  const view = new DataView(bytes.buffer);
  view.setUint16(8, 9, true);
  view.setUint16(10, 64, true);
  view.setUint32(60, crc32c(bytes.subarray(0, 60)), true);
  assert.deepEqual(decodeFileHeader(bytes)?.version, 9);
  assert.equal(decodeFileHeader(bytes)?.link, null);
  view.setUint16(10, 80, true); // a version 3 size under another version: its CRC is elsewhere
  assert.equal(decodeFileHeader(bytes), null);
});

Deno.test("declaredHeaderSize() gives where records start, never past a record", () => {
  const v3 = encodeFileHeader({
    segment: 7,
    createdMs: 5,
    writerId: new Uint8Array(8),
    link: LINK,
  });
  assert.equal(declaredHeaderSize(v3), 80);
  assert.equal(declaredHeaderSize(v3.subarray(0, 12)), 80);
  assert.equal(declaredHeaderSize(v3.subarray(0, 11)), 48);
  assert.equal(declaredHeaderSize(V2_HEADER), 48);
  const damaged = v3.slice();
  damaged[10] = 0x77;
  assert.equal(declaredHeaderSize(damaged), 48);
});

Deno.test("writeRecord() writes the golden bytes of a tiny record", () => {
  const payload = packEvents([{
    ts_ms: 1.5,
    level: "warn",
    severity: 13,
    event: "e",
    producer: "p",
    seq: 1,
    fields: { flow_id: "f" },
  }]);
  const flow = new TextEncoder().encode("f");
  const bytes = new Uint8Array(recordSize(flow.length, payload.length));
  const end = writeRecord(
    bytes,
    new DataView(bytes.buffer),
    0,
    {
      seq: 2,
      eventCount: 1,
      errorCount: 0,
      maxSeverity: 13,
      minTs: 1.5,
      maxTs: 1.5,
    },
    flow,
    payload,
  );
  assert.equal(end, bytes.length);
  assert.equal(
    hex(bytes),
    [
      // magic, payload_len = 34, CRC
      "c1 f7 0b 9a 22 00 00 00 0e 9a 8d 70",
      // flow_len = 1, flags = has flow, max severity = 13
      "01 00 01 0d",
      // seq = 2, event count = 1, error count = 0
      "02 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00",
      // min ts, max ts = 1.5
      "00 00 00 00 00 00 f8 3f 00 00 00 00 00 00 f8 3f",
      // flow id "f"
      "66",
      // payload: [bindings = [], events = [[ts 1.5, severity 13, "e", "p", seq 1, b = -1,
      "92 90 91 97 cb 3f f8 00 00 00 00 00 00 0d a1 65 a1 70 01 ff " +
      // fields: record 0x40 {flow_id: "f"}]]]
      "d4 72 40 91 a7 66 6c 6f 77 5f 69 64 a1 66",
    ].join(" "),
  );
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint32(8, true), CRC32C.buf(bytes.subarray(12)) >>> 0);
  assert.equal(unpackEvents(bytes.subarray(RECORD_HEADER_SIZE + 1))[0]?.level, "warn");
});

Deno.test("segmentFileName() and parseSegmentFileName() use 16 lowercase hex digits", () => {
  assert.equal(segmentFileName(0), "seg-0000000000000000.flog");
  assert.equal(segmentFileName(2 ** 53 - 1), "seg-001fffffffffffff.flog");
  assert.equal(parseSegmentFileName("seg-001fffffffffffff.flog"), 2 ** 53 - 1);
  assert.equal(parseSegmentFileName("seg-0020000000000000.flog"), null);
  assert.equal(parseSegmentFileName("seg-000000000000001A.flog"), null);
  assert.equal(parseSegmentFileName("seg-1a.flog"), null);
  assert.equal(parseSegmentFileName("seg-000000000000001a.flog.tmp"), null);
});

Deno.test("isFlowId() takes well-formed strings up to the header limit", () => {
  assert.ok(isFlowId(""));
  assert.ok(isFlowId("é".repeat(MAX_FLOW_ID_LENGTH)));
  assert.ok(new TextEncoder().encode("\u{FFFF}".repeat(MAX_FLOW_ID_LENGTH)).length <= 65_535);
  assert.ok(!isFlowId("a".repeat(MAX_FLOW_ID_LENGTH + 1)));
  assert.ok(!isFlowId("a\uDC00"));
  assert.ok(!isFlowId(7));
  assert.ok(!isFlowId(null));
});

Deno.test("crc32c() is CRC-32C (Castagnoli)", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});
