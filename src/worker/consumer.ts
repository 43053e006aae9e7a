/**
 * The consumer: drains every producer's ring, decodes records into events and
 * hands them to the store (or, when nothing reads the events, packs them
 * straight into payloads: docs/internals.md "The path of an event"); answers
 * flushes and queries. Runs in the worker
 * (SAB and postMessage transports) or in the caller's thread (in-thread mode),
 * so all of it is plain code with no worker globals.
 *
 * @module
 */
import {
  ALIVE,
  ConsumerState,
  DURABLE,
  FLUSH_ACK,
  FLUSH_REQ,
  GENERATION,
  mirroredDefinitions,
  RingConsumer,
  SLEEPING,
  STATE,
  walkRecords,
} from "../wire/ring.ts";
import { Decoder } from "../wire/codec.ts";
import { errorText } from "../store/errors.ts";
import { PayloadTranscoder } from "../store/payload_transcoder.ts";
import type { PackedPayload } from "../store/record.ts";
import type { LogEvent } from "../event.ts";
import type { FlowLog, QueryFilter, QueryPage } from "../query/types.ts";
import type { FlowPage, ListFlowsOptions } from "../query/flow_list.ts";
import type { NodeStatsAccumulator, NodeStatsFilter, NodeStatsRow } from "../query/node_stats.ts";

/** What the consumer needs from a store (segment files, IndexedDB, memory). */
export interface Store {
  append(events: LogEvent[]): void;
  /**
   * Appends payloads packed from ring records (`src/store/payload_transcoder.ts`).
   * A store without it gets every batch as events.
   */
  appendPayloads?(payloads: readonly PackedPayload[]): void;
  sync(): void;
  query(filter: QueryFilter): QueryPage;
  getFlowLog(flowId: string): FlowLog;
  listFlowPage(options: ListFlowsOptions | undefined): FlowPage;
  nodeStats(filter: NodeStatsFilter | undefined): NodeStatsAccumulator;
  stats(): Record<string, unknown>;
  close(): void;
}

/** Counters of one producer, as the consumer sees them. */
export interface ProducerCounters {
  producer: string;
  emitted: number;
  dropped: number;
  persisted: number;
  internal: number;
  /** User events the store refused (I/O error); they count as dropped. */
  lost: number;
}

interface ProducerEntry {
  id: string;
  decoder: Decoder;
  // Made on the first record packed straight to a payload.
  transcoder: PayloadTranscoder | null;
  ring: RingConsumer | null;
  // postMessage transport: counters reported by the front end with each batch.
  emitted: number;
  dropped: number;
  persisted: number;
  internal: number;
  lost: number;
  // A mirrored ring taken over from a dead consumer: settled before its
  // first drain (docs/internals.md "Definitions mirror").
  recover: boolean;
}

/** Statistics of the consumer. */
export interface ConsumerStats {
  producers: ProducerCounters[];
  decode_errors: number;
  store_errors: number;
  /** Events lost because the store refused them (disk full, I/O error). */
  store_dropped: number;
  last_error: string | null;
  store: Record<string, unknown>;
}

const MAX_BATCH = 1024;
/**
 * Longest a busy drain loop goes without a timer turn, which lets queued RPCs
 * (queries, stats, flush) in: a message to itself did not ({@linkcode Consumer.run}).
 */
export const RPC_TURN_MS = 50;

/** One turn of the event loop by timer. */
export function timerTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
// Pages prefault() touches per idle step: about 0.7 ms of page faults on a KVM
// guest, so RPCs and flushes still get their turn between steps.
const PREFAULT_PAGES = 64;

/** Options of {@linkcode Consumer}. */
export interface ConsumerOptions {
  /**
   * The store writes later than `append()` returns (IndexedDB behind
   * `WriteBehind`): count events as persisted only when it reports them
   * written ({@linkcode Consumer.confirm}), never at `append()`.
   * @default {false}
   */
  confirmed?: boolean;
}

/**
 * Drains rings and batches from producers into a {@linkcode Store}.
 */
export class Consumer {
  readonly #store: Store;
  readonly #control: Int32Array;
  readonly #producers: ProducerEntry[] = [];
  #batch: LogEvent[] = [];
  // Events of the current batch, decoded or packed.
  #batchSize = 0;
  // No observer or sink reads the events and the store takes payloads: records
  // are packed straight from the ring (bench/transcode_ab.ts).
  #packing = false;
  #batchUser = 0;
  #batchInternal = 0;
  #decodeErrors = 0;
  #storeErrors = 0;
  #storeDropped = 0;
  #lastError: Error | null = null;
  #closed = false;
  #current: ProducerEntry | null = null;
  readonly #observers: ((events: readonly LogEvent[]) => void)[] = [];
  readonly #onRecord = (bytes: Uint8Array, start: number, end: number): void => {
    const p = this.#current!;
    try {
      if (Decoder.isDefinition(bytes, start)) {
        p.decoder.define(bytes, start, end);
        return;
      }
      if (this.#packing) {
        (p.transcoder ??= new PayloadTranscoder(p.decoder, p.id)).add(bytes, start, end);
      } else {
        this.#batch.push(p.decoder.decode(bytes, start, end, p.id));
      }
      this.#batchSize++;
      if (Decoder.isInternal(bytes, start)) this.#batchInternal++;
      else this.#batchUser++;
    } catch {
      this.#decodeErrors++;
    }
    if (this.#batchSize >= MAX_BATCH) this.#commit(p);
  };

  /**
   * `generation` is this consumer's number in the control buffer's
   * `GENERATION` slot (0: never replaced, no check): once the slot holds
   * another, this consumer takes and counts nothing more (docs/internals.md
   * "Worker restart").
   */
  constructor(
    store: Store,
    control: SharedArrayBuffer | ArrayBuffer,
    generation = 0,
    options: ConsumerOptions = {},
  ) {
    this.#store = store;
    this.#packing = store.appendPayloads !== undefined;
    this.#control = new Int32Array(control);
    this.#generation = generation;
    this.#confirmed = options.confirmed ?? false;
    Atomics.store(this.#control, STATE, ConsumerState.running);
  }

  readonly #generation: number;
  readonly #confirmed: boolean;

  /** True once a newer consumer replaced this one: one atomic load, per drain or batch. */
  retired(): boolean {
    return this.#generation !== 0 && Atomics.load(this.#control, GENERATION) !== this.#generation;
  }

  /**
   * Registers a producer's ring. After a worker restart, `recovered` carries
   * the bindings definitions the producer handed over (framed records laid
   * end to end; docs/internals.md "Worker restart").
   */
  addRing(
    producer: string,
    buffer: SharedArrayBuffer | ArrayBuffer,
    recovered?: { bindings?: Uint8Array | undefined },
  ): void {
    const decoder = new Decoder();
    const ring = new RingConsumer(buffer);
    if (recovered !== undefined) {
      decoder.recovering = true;
      const defs = recovered.bindings;
      if (defs !== undefined) this.#adopt(decoder, defs);
    }
    this.#producers.push({
      id: producer,
      decoder,
      transcoder: null,
      ring,
      emitted: 0,
      dropped: 0,
      persisted: 0,
      internal: 0,
      lost: 0,
      recover: recovered !== undefined && ring.mirrored,
    });
  }

  // Definitions handed over after a worker restart (docs/internals.md "Worker restart").
  #adopt(decoder: Decoder, defs: Uint8Array): void {
    walkRecords(defs, defs.length, 0, 0x40000000, (bytes, start, end) => {
      try {
        decoder.define(bytes, start, end, true);
      } catch {
        this.#decodeErrors++;
      }
    });
  }

  // Before the first drain of an attached producer's ring taken over from a
  // dead consumer, which has stopped by now (the front end sets RESUME only
  // then): adopt the definitions its mirror holds and count what the dead
  // consumer took and never stored (docs/internals.md "Definitions mirror").
  #recover(p: ProducerEntry, ring: RingConsumer): void {
    p.recover = false;
    this.#adopt(p.decoder, mirroredDefinitions(ring.buffer));
    p.lost += ring.settleTaken();
  }

  /**
   * Takes a batch of framed records from a postMessage producer (records laid
   * end to end, no wrap markers) with the producer's counters.
   */
  ingest(producer: string, bytes: Uint8Array, emitted: number, dropped: number): {
    persisted: number;
    internal: number;
    lost: number;
  } {
    let p = this.#producers.find((e) => e.id === producer);
    if (p === undefined) {
      p = {
        id: producer,
        decoder: new Decoder(),
        transcoder: null,
        ring: null,
        emitted: 0,
        dropped: 0,
        persisted: 0,
        internal: 0,
        lost: 0,
        recover: false,
      };
      this.#producers.push(p);
    }
    p.emitted = emitted;
    p.dropped = dropped;
    this.#current = p;
    walkRecords(bytes, bytes.length, 0, 0x40000000, this.#onRecord);
    this.#commit(p);
    return { persisted: p.persisted, internal: p.internal, lost: p.lost };
  }

  /**
   * Adds an observer of persisted events (console output, metrics): called
   * with each batch after the store accepted it. It must not throw.
   */
  addObserver(observe: (events: readonly LogEvent[]) => void): void {
    this.#observers.push(observe);
    this.#packing = false;
  }

  /** Bytes in use and capacity of each ring, read without draining. */
  rings(): { producer: string; used: number; capacity: number }[] {
    const out = [];
    for (const p of this.#producers) {
      if (p.ring !== null) {
        out.push({ producer: p.id, used: p.ring.used(), capacity: p.ring.capacity });
      }
    }
    return out;
  }

  /** Drains every ring once. Returns the number of records taken. */
  drain(): number {
    let n = 0;
    if (this.retired()) return 0;
    for (const p of this.#producers) {
      if (p.ring === null) continue;
      if (p.recover) this.#recover(p, p.ring);
      this.#current = p;
      n += p.ring.drain(this.#onRecord);
      this.#commit(p);
    }
    return n;
  }

  /**
   * Each ring with the position its last drain ended at (`TAIL`), so a caller
   * that stores asynchronously can mark it committed later
   * (`RingConsumer.markStored`; the browser worker's unload spill reads it).
   */
  drained(): [RingConsumer, number][] {
    const out: [RingConsumer, number][] = [];
    for (const p of this.#producers) if (p.ring !== null) out.push([p.ring, p.ring.tail()]);
    return out;
  }

  /**
   * Touches, in every ring, pages the producer is about to write for the
   * first time (`RingConsumer.prefault`), a few at a time: for an idle
   * consumer. Returns true when it touched any.
   */
  prefault(): boolean {
    let n = 0;
    for (const p of this.#producers) if (p.ring !== null) n += p.ring.prefault(PREFAULT_PAGES);
    return n > 0;
  }

  /** True when any ring holds unread records. */
  pending(): boolean {
    for (const p of this.#producers) if (p.ring !== null && p.ring.pending()) return true;
    return false;
  }

  #commit(p: ProducerEntry): void {
    const batch = this.#batch;
    const packed = p.transcoder !== null && p.transcoder.count > 0 ? p.transcoder.take() : null;
    if (batch.length === 0 && packed === null) return;
    const user = this.#batchUser;
    const internal = this.#batchInternal;
    this.#batch = [];
    this.#batchSize = 0;
    this.#batchUser = 0;
    this.#batchInternal = 0;
    try {
      // Packed records came first: an observer added since gets the rest as events.
      if (packed !== null) this.#store.appendPayloads!(packed);
      if (batch.length > 0) this.#store.append(batch);
      // Replaced while writing (a hang that ended): the front end has counted
      // this batch as lost; stored but not counted, as after a crash.
      if (this.retired()) return;
      if (!this.#confirmed) this.#countPersisted(p, user, internal);
    } catch (err) {
      if (this.retired()) return;
      // The events are lost; count them so emitted = persisted + dropped still holds.
      this.#storeErrors++;
      this.#storeDropped += user;
      this.#lastError = err instanceof Error ? err : new Error(String(err));
      p.lost += user;
      if (p.ring !== null) p.ring.countLost(user);
      return;
    }
    if (batch.length > 0) { for (const observe of this.#observers) observe(batch); }
  }

  #countPersisted(p: ProducerEntry, user: number, internal: number): void {
    if (p.ring !== null) p.ring.countPersisted(user, internal);
    p.persisted += user;
    p.internal += internal;
  }

  /**
   * Counts events an asynchronous store reports written (a consumer built
   * with `{ confirmed: true }`): `user` and `internal` events of `producer`.
   */
  confirm(producer: string, user: number, internal: number): void {
    const p = this.#producers.find((e) => e.id === producer);
    // A replaced consumer counts nothing: the front end counted its batches lost.
    if (p === undefined || this.retired()) return;
    this.#countPersisted(p, user, internal);
  }

  /**
   * Counts `user` events of `producer` as lost: an asynchronous store
   * accepted them in `append()` and failed to write them later. Keeps
   * `emitted = persisted + dropped` exact; the next flush rejects with `err`.
   */
  refused(producer: string, user: number, err: Error): void {
    const p = this.#producers.find((e) => e.id === producer);
    if (p === undefined || this.retired()) return;
    this.#storeErrors++;
    this.#storeDropped += user;
    this.#lastError = err;
    p.lost += user;
    if (p.ring !== null) p.ring.countLost(user);
  }

  /** A producer's counters as this consumer has them (postMessage acknowledgements). */
  countsOf(producer: string): { persisted: number; internal: number; lost: number } {
    const p = this.#producers.find((e) => e.id === producer);
    return { persisted: p?.persisted ?? 0, internal: p?.internal ?? 0, lost: p?.lost ?? 0 };
  }

  /** Drains, then answers outstanding synchronous flush requests. */
  serviceFlushRequests(): void {
    const c = this.#control;
    const req = Atomics.load(c, FLUSH_REQ);
    // A replaced consumer must not acknowledge a flush it did not drain.
    if (req === Atomics.load(c, FLUSH_ACK) || this.retired()) return;
    this.drain();
    if (Atomics.exchange(c, DURABLE, 0) === 1) {
      try {
        this.#store.sync();
      } catch (err) {
        this.#lastError = err instanceof Error ? err : new Error(String(err));
      }
    }
    Atomics.store(c, FLUSH_ACK, req);
    Atomics.notify(c, FLUSH_ACK);
  }

  /**
   * Drains everything and, when `durable`, fsyncs. Rejects when the store
   * failed since the last flush, so no failure goes unnoticed.
   */
  flush(durable: boolean): void {
    this.drain();
    if (durable) this.#store.sync();
    const err = this.#lastError;
    if (err !== null) {
      this.#lastError = null;
      throw new Error(`Store write failed, events were dropped: ${errorText(err)}`, { cause: err });
    }
  }

  /** Runs a query after draining, so it sees every event logged before the call. */
  query(filter: QueryFilter): QueryPage {
    this.drain();
    return this.#store.query(filter);
  }

  /** Returns one flow's log after draining. */
  getFlowLog(flowId: string): FlowLog {
    this.drain();
    return this.#store.getFlowLog(flowId);
  }

  /** Returns one page of the stored flows after draining. */
  listFlows(options: ListFlowsOptions | undefined): FlowPage {
    this.drain();
    return this.#store.listFlowPage(options);
  }

  /** Per-node statistics after draining, as plain rows (they cross the worker boundary). */
  nodeStats(filter: NodeStatsFilter | undefined): NodeStatsRow[] {
    this.drain();
    return this.#store.nodeStats(filter).rows();
  }

  /** Consumer and store statistics. */
  stats(): ConsumerStats {
    return {
      producers: this.#producers.map((p) => {
        const c = p.ring?.counters();
        return {
          producer: p.id,
          emitted: c ? c.emitted : p.emitted,
          dropped: c ? c.dropped : p.dropped,
          persisted: p.persisted,
          internal: p.internal,
          lost: p.lost,
        };
      }),
      decode_errors: this.#decodeErrors,
      store_errors: this.#storeErrors,
      store_dropped: this.#storeDropped,
      last_error: this.#lastError === null ? null : errorText(this.#lastError),
      store: this.#store.stats(),
    };
  }

  /**
   * Waits (asynchronously) until a producer wakes the consumer or `idleMs`
   * passes. Sets `SLEEPING` first and re-checks, so no wake-up is lost.
   */
  async sleep(idleMs: number): Promise<void> {
    const c = this.#control;
    // A replaced consumer's heartbeat would pass for its successor's.
    if (this.retired()) return;
    Atomics.add(c, ALIVE, 1);
    Atomics.store(c, SLEEPING, 1);
    if (
      this.pending() || Atomics.load(c, FLUSH_REQ) !== Atomics.load(c, FLUSH_ACK) || this.#closed
    ) {
      Atomics.store(c, SLEEPING, 0);
      return;
    }
    const r = Atomics.waitAsync(c, SLEEPING, 1, idleMs);
    if (r.async) await r.value;
    Atomics.store(c, SLEEPING, 0);
  }

  /**
   * The drain loop of a worker: drain, answer synchronous flushes, sleep when
   * idle. Yields to the event loop regularly so RPCs are served under load.
   */
  async run(idleMs = 1000): Promise<void> {
    let turn = performance.now();
    while (!this.#closed && !this.retired()) {
      const started = performance.now();
      let n: number;
      do {
        n = this.drain();
        this.serviceFlushRequests();
      } while (n > 0 && performance.now() - started < 8 && !this.#closed);
      if (n > 0 && started - turn < RPC_TURN_MS) {
        await this.#yield();
        continue;
      }
      // A timer turn lets queued RPCs in, where a message to itself did not: a
      // query waited as long as the overload lasted, a fresh logger's first
      // flush for every page prefault() touched (+50 ms).
      turn = started;
      if (n > 0 || this.prefault()) await timerTurn();
      else await this.sleep(idleMs);
    }
    this.#channel?.port1.close();
    this.#channel?.port2.close();
  }

  // Lets other tasks run between busy drains. A message to ourselves, not
  // setTimeout(0): nested timers are clamped to 4 ms, which idled the worker
  // a third of the time under sustained load (bench: deno task gate).
  #yield(): Promise<void> {
    const ch = this.#channel ??= new MessageChannel();
    return new Promise((resolve) => {
      ch.port2.onmessage = () => resolve();
      ch.port1.postMessage(0);
    });
  }
  #channel: MessageChannel | undefined;

  /** Drains, syncs and closes the store; ends {@linkcode Consumer.run}. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.drain();
    this.#closed = true;
    try {
      this.#store.sync();
    } finally {
      this.#store.close();
      Atomics.store(this.#control, STATE, ConsumerState.closed);
      Atomics.store(this.#control, SLEEPING, 0);
      Atomics.notify(this.#control, SLEEPING);
      Atomics.notify(this.#control, FLUSH_ACK);
    }
  }
}
