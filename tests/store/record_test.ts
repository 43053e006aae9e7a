import assert from "node:assert/strict";
import { concatBatches, encodeBatch } from "../../src/store/batch_encoder.ts";
import { scanRecords } from "../../src/store/record_scanner.ts";
import { flowEvents } from "./_helpers.ts";
import { makeEvent } from "../support/log_event.ts";

Deno.test("encodeBatch() gives the FramedRecord that scanRecords() finds in its bytes", () => {
  const batch = encodeBatch([
    ...flowEvents("checkout-42", 1, 3),
    makeEvent(5, { n: 1 }),
    ...flowEvents("ünïcode", 4, 4),
  ], 7);
  const scanned = scanRecords(batch.bytes).records;
  assert.deepEqual(scanned, batch.records);
  // One hidden class for both: the same fields in the same order.
  assert.deepEqual(scanned.map(Object.keys), batch.records.map(Object.keys));
  for (const record of batch.records) {
    assert.equal(batch.bytes[record.payloadStart], 0x92, "a payload is [bindings, events]");
  }
});

Deno.test("concatBatches() shifts every offset of the second batch", () => {
  const a = encodeBatch(flowEvents("a", 1, 2), 1);
  const b = encodeBatch(flowEvents("b", 3, 3), 2);
  const both = concatBatches(a, b);
  assert.deepEqual(scanRecords(both.bytes).records, both.records);
});
