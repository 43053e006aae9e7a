/**
 * The `"message"` transport's producer: the hot path appends records to a
 * private buffer, posted to the worker as one batch per interval.
 *
 * @module
 */
import { align4, countUserRecords, type RingCounters } from "../wire/ring.ts";
import type { Producer } from "./types.ts";

// A batch is records end to end: read as a ring region that never wraps.
const BATCH_SPAN = 0x40000000;

/**
 * The postMessage producer: records are appended to a private buffer and
 * posted as one batch per `intervalMs`. Bytes posted but not yet acknowledged
 * count against the capacity, so memory stays bounded when the worker lags;
 * the producer keeps them (the pagehide spill writes them) until the worker
 * acknowledges them, once IndexedDB committed them.
 */
export class BatchProducer implements Producer {
  readonly capacity: number;
  readonly data: Uint8Array = new Uint8Array(0);
  readonly view: DataView = new DataView(new ArrayBuffer(0));
  /** Advances with each posted batch: a batch defines the bindings it uses. */
  epoch = 1;
  #buf: Uint8Array;
  #fill = 0;
  #inflight = 0;
  #emitted = 0;
  #dropped = 0;
  #persisted = 0;
  #internal = 0;
  #lost = 0;
  #crashLost = 0;
  // Counts acknowledged by workers that have since died; `#gen` numbers the workers.
  readonly #base = { persisted: 0, internal: 0, lost: 0 };
  #gen = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #intervalMs: number;
  readonly #send: (
    bytes: Uint8Array,
    emitted: number,
    dropped: number,
  ) => Promise<{ persisted: number; internal: number; lost: number }>;
  #posting: Promise<void> = Promise.resolve();
  // Posted and not acknowledged, oldest first.
  readonly #unacked: Uint8Array[] = [];
  readonly #unrefTimer: (id: ReturnType<typeof setTimeout>) => void;

  /**
   * `send` posts a batch and resolves with the worker's counts once it is
   * stored; `unrefTimer` keeps the batching timer from holding the process
   * open (the platform's).
   */
  constructor(
    capacity: number,
    intervalMs: number,
    send: (
      bytes: Uint8Array,
      emitted: number,
      dropped: number,
    ) => Promise<{ persisted: number; internal: number; lost: number }>,
    unrefTimer: (id: ReturnType<typeof setTimeout>) => void,
  ) {
    this.capacity = capacity;
    this.#buf = new Uint8Array(capacity);
    this.#intervalMs = intervalMs;
    this.#send = send;
    this.#unrefTimer = unrefTimer;
  }

  reserve(_max: number): number {
    return -1;
  }

  commit(_len: number): void {}

  hasRoom(n: number): boolean {
    return this.#inflight + this.#fill + n <= this.capacity;
  }

  write(src: Uint8Array, len: number): boolean {
    const need = align4(len);
    if (this.#inflight + this.#fill + need > this.capacity) return false;
    const buf = this.#buf;
    const at = this.#fill;
    if (len <= 64) { for (let i = 0; i < len; i++) buf[at + i] = src[i]!; }
    else buf.set(src.subarray(0, len), at);
    this.#fill = at + need;
    // The first record of a batch starts the batching timer: nothing waits for a flush.
    if (this.#timer === undefined) this.wake();
    return true;
  }

  wake(): void {
    if (this.#timer === undefined) {
      const timer = setTimeout(() => {
        this.#timer = undefined;
        void this.post();
      }, this.#intervalMs);
      this.#unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /** Posts the buffered records now; resolves when the worker has stored them. */
  post(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#fill === 0) return this.#posting;
    const n = this.#fill;
    const bytes = this.#buf.slice(0, n);
    this.#fill = 0;
    this.epoch++;
    this.#inflight += n;
    this.#unacked.push(bytes);
    const gen = this.#gen;
    const users = countUserRecords(bytes, n, 0, BATCH_SPAN);
    const p = this.#send(bytes, this.#emitted, this.#dropped).then((ack) => {
      this.#persisted = ack.persisted;
      this.#internal = ack.internal;
      this.#lost = ack.lost;
    }, (err) => {
      // The worker died with the batch (docs/internals.md "Worker restart"): its
      // user events are lost, and counted, so emitted = persisted + dropped;
      // the next worker counts from zero, on top of what this one acknowledged.
      this.#crashLost += users;
      if (gen === this.#gen) this.rebase();
      throw err;
    }).finally(() => {
      this.#inflight -= n;
      const i = this.#unacked.indexOf(bytes);
      if (i >= 0) this.#unacked.splice(i, 1);
    });
    this.#posting = p.catch(() => {});
    return p;
  }

  /**
   * A new worker took over: it counts from zero, on top of what the dead one
   * acknowledged. Idempotent per worker.
   */
  rebase(): void {
    this.#gen++;
    this.#base.persisted += this.#persisted;
    this.#base.internal += this.#internal;
    this.#base.lost += this.#lost;
    this.#persisted = this.#internal = this.#lost = 0;
  }

  publish(emitted: number, dropped: number): void {
    this.#emitted = emitted;
    this.#dropped = dropped;
  }

  /**
   * For the unload spill: the batches posted and not acknowledged, then the
   * records not posted yet (with `take`, taken out: no later flush posts
   * them), end to end; null when there are none.
   */
  forSpill(take: boolean): { bytes: Uint8Array; unposted: Uint8Array | null } | null {
    const unposted = this.#fill === 0 ? null : this.#buf.slice(0, this.#fill);
    if (take) this.#fill = 0;
    const parts = unposted === null ? this.#unacked : [...this.#unacked, unposted];
    if (parts.length === 0) return null;
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    return { bytes, unposted };
  }

  /** Where the producer is: changes with each record written and each batch posted. */
  position(): string {
    return `${this.epoch}:${this.#fill}`;
  }

  /**
   * The worker was given up: the user events not posted yet can never be
   * stored, so they are counted as lost (dropped) and the buffer is emptied.
   */
  abandon(): void {
    if (this.#fill === 0) return;
    this.#crashLost += countUserRecords(this.#buf, this.#fill, 0, BATCH_SPAN);
    this.#fill = 0;
  }

  /** Puts back the records {@linkcode BatchProducer.forSpill} took (the buffer is still empty). */
  restore(bytes: Uint8Array): void {
    this.#buf.set(bytes, 0);
    this.#fill = bytes.length;
  }

  counters(): RingCounters {
    return {
      emitted: this.#emitted,
      dropped: this.#dropped,
      persisted: this.#base.persisted + this.#persisted,
      internal: this.#base.internal + this.#internal,
      lost: this.#base.lost + this.#lost + this.#crashLost,
    };
  }

  used(): number {
    return this.#fill + this.#inflight;
  }

  waitForSpace(_ms: number): boolean {
    return false;
  }

  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
