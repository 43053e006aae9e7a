/**
 * A `"message"` transport batch for the worker tests: records laid end to
 * end, as the page posts them.
 *
 * @module
 */
import { Encoder } from "../../src/wire/codec.ts";

/** Events with seq `first..last` of flow "f", each record padded to whole 4-byte words. */
export function messageBatch(first: number, last: number): Uint8Array {
  const enc = new Encoder();
  const parts: Uint8Array[] = [];
  for (let seq = first; seq <= last; seq++) {
    const len = enc.encode(seq, 1000 + seq, 9, 0, "e", { flow_id: "f" });
    parts.push(enc.buf.slice(0, (len + 3) & ~3));
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) bytes.set(p, (at += p.length) - p.length);
  return bytes;
}
