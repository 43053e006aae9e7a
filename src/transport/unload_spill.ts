/**
 * A page's unload spill, for the worker transports in browsers: a page going
 * away cannot wait for its worker, so it writes what the worker has not
 * committed where the next page finds it (docs/browser.md "Page
 * lifecycle"), and hands its own worker what earlier pages spilled.
 *
 * @module
 */
import { RingProducer } from "../wire/ring.ts";
import {
  type DefinitionRecord,
  lossBatch,
  type PendingBatch,
  spillRing,
} from "../wire/sab_spill.ts";
import type { Spill } from "../wire/spill_text.ts";
import { BatchProducer } from "./batch_producer.ts";
import type { Producer } from "./types.ts";

/** What one logger's page spills, on the connection its platform opened. */
export class UnloadSpill {
  readonly #spill: Spill;
  readonly #producer: Producer;
  readonly #producerId: string;
  readonly #definitions: (id: number) => DefinitionRecord | undefined;
  // Batches earlier pages spilled into localStorage, until this page's worker stored them.
  #claimed: PendingBatch[];
  // Where the producer was at the last spill (ring HEAD, or batch and fill): unchanged, none again.
  #spilledAt = "";

  /**
   * Takes what earlier pages spilled from `spill`; `definitions` looks a
   * child's bindings definition up (a `sab` spill inserts those its events
   * need, src/wire/sab_spill.ts).
   */
  constructor(
    spill: Spill,
    producer: Producer,
    producerId: string,
    definitions: (id: number) => DefinitionRecord | undefined,
  ) {
    this.#spill = spill;
    this.#producer = producer;
    this.#producerId = producerId;
    this.#definitions = definitions;
    this.#claimed = spill.claim();
  }

  /** The batches earlier pages spilled, this page's worker's to store (or this page's to spill again). */
  get claimed(): PendingBatch[] {
    return this.#claimed;
  }

  /** This page's worker stored the claimed batches: they are no longer this page's to spill. */
  claimedStored(): void {
    this.#claimed = [];
  }

  /**
   * Writes the claimed batches and what the worker has not committed. At
   * `beforeunload` (`final` false) a copy, as the page may stay after all; at
   * `pagehide` the unposted records are taken, so no later flush posts them.
   * A logger `givenUp` counted what it logged as dropped: that is not spilled.
   */
  write(final: boolean, givenUp: boolean): void {
    const producer = this.#producer;
    const at = producer instanceof RingProducer
      ? String(producer.head())
      : (producer as BatchProducer).position();
    if (at === this.#spilledAt) return; // nothing logged since the last spill, which had it all
    this.#spilledAt = at;
    const batches = [...this.#claimed];
    let unposted: Uint8Array | null = null;
    if (givenUp) {
      // Nothing of this page's own.
    } else if (producer instanceof RingProducer) {
      const batch = spillRing(producer.buffer, producer.head(), this.#definitions);
      if (batch !== null) {
        const { emitted, dropped } = producer.counters();
        batches.push({ producer: this.#producerId, bytes: batch.bytes, emitted, dropped });
      }
    } else if (producer instanceof BatchProducer) {
      const taken = producer.forSpill(final);
      if (taken !== null) {
        unposted = taken.unposted;
        const { emitted, dropped } = producer.counters();
        batches.push({ producer: this.#producerId, bytes: taken.bytes, emitted, dropped });
      }
    }
    if (this.#spill.write(batches, lossBatch) === null && final && unposted !== null) {
      (producer as BatchProducer).restore(unposted); // the flush that follows posts it
    }
  }

  /** Closes the connection. */
  close(): void {
    this.#spill.close();
  }
}
