/**
 * Gzip for the uplink in Deno: `node:zlib`'s callback API, level 6 (the
 * `CompressionStream` level, same bytes on the wire). It costs about a quarter
 * of `CompressionStream` per event (1.9 vs 8.5 µs for a 512-event request,
 * bench/uplink_throughput.ts "stages"), whose stream machinery dominates.
 *
 * @module
 */
import { gzip } from "node:zlib";

/**
 * Gzips `bytes`.
 *
 * @example Round trip
 * ```ts
 * import { gzipDeno } from "./_gzip_deno.ts";
 * import assert from "node:assert/strict";
 * const packed = await gzipDeno(new TextEncoder().encode("hello"));
 * const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream("gzip"));
 * assert.equal(await new Response(stream).text(), "hello");
 * ```
 */
export function gzipDeno(bytes: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Promise((resolve, reject) => {
    gzip(bytes, (error, out) => {
      if (error !== null) reject(error);
      else resolve(new Uint8Array(out.buffer as ArrayBuffer, out.byteOffset, out.byteLength));
    });
  });
}
