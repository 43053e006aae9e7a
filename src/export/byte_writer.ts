/**
 * A growing output buffer of bytes, shared by the exporters that write JSON
 * straight into bytes (`jsonl_transcoder.ts`, `otlp_json.ts`).
 *
 * @module
 */

/**
 * Bytes written at `buf[0..pos)`; the buffer doubles when a write needs more
 * room, and a subclass writes into `buf` directly after {@linkcode ByteWriter.reserve}.
 *
 * @example Write and read back
 * ```ts
 * import { ByteWriter } from "./byte_writer.ts";
 * import assert from "node:assert/strict";
 * const w = new ByteWriter(2);
 * w.ascii("{}");
 * w.byte(0x0a);
 * assert.equal(new TextDecoder().decode(w.buf.subarray(0, w.pos)), "{}\n");
 * ```
 */
export class ByteWriter {
  /** The buffer; replaced by a larger copy when it fills. */
  buf: Uint8Array;
  /** Bytes written. */
  pos = 0;

  /** A writer whose first buffer holds `size` bytes. */
  constructor(size: number = 1 << 16) {
    this.buf = new Uint8Array(size);
  }

  /** Makes room for `n` more bytes after `pos`. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Writes ASCII `text` (constant JSON text, digits, hex ids). */
  ascii(text: string): void {
    const n = text.length;
    this.reserve(n);
    // Locals, not fields, in the loop: a field store per byte costs twice as much.
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = text.charCodeAt(i);
    this.pos = pos;
  }

  /** Writes `chunk`, constant text encoded once: copying bytes beats converting text again. */
  bytes(chunk: Uint8Array): void {
    const n = chunk.length;
    this.reserve(n);
    // A byte loop beats TypedArray.set for short runs (bench/ring_bench.ts "copy").
    if (n > 32) {
      this.buf.set(chunk, this.pos);
      this.pos += n;
      return;
    }
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = chunk[i]!;
    this.pos = pos;
  }

  /** Writes one byte. */
  byte(c: number): void {
    this.reserve(1);
    this.buf[this.pos++] = c;
  }
}
