/**
 * The IndexedDB schema, shared by the worker's store (`idb_store.ts`, which
 * documents the layout) and the page's unload spill (`_runtime_browser.ts`),
 * which opens the database without `idb` and must create the same schema when
 * it is first.
 *
 * @module
 */

/** Schema version of the flightlog database. */
export const DB_VERSION = 1;

/**
 * A postMessage batch the page could not hand to its worker before it went
 * away (`pagehide`): the framed records as the worker would have received
 * them, with the front end's counters. The next worker to open the database
 * stores them.
 */
export interface PendingBatch {
  /** Producer id of the page's logger. */
  producer: string;
  /** Records laid end to end (the `"message"` transport's batch format). */
  bytes: Uint8Array;
  /** The front end's `emitted` counter when it spilled. */
  emitted: number;
  /** The front end's `dropped` counter when it spilled. */
  dropped: number;
  /**
   * Set by `IdbStore.takePending()`: the highest seq of this producer already
   * in the database (a `sab` page spills what its worker had not committed
   * when it looked, and the worker may have committed some of it after all).
   */
  stored?: number;
  /**
   * Set on a batch that records a loss (a `log.dropped` record for spilled
   * events that never arrived): the last `seq` of those events. The worker
   * leaves the batch out when the producer's events up to it are stored
   * after all.
   */
  unlessStored?: number;
}

/** The part of `IDBDatabase` the upgrade uses (raw or wrapped by `idb`). */
export interface SchemaTarget {
  createObjectStore(
    name: string,
    options?: { keyPath?: string; autoIncrement?: boolean },
  ): { createIndex(name: string, keyPath: string | string[]): unknown };
}

/** Creates the object stores and indexes of a new database. */
export function upgradeSchema(db: SchemaTarget): void {
  const records = db.createObjectStore("records", { keyPath: "id", autoIncrement: true });
  records.createIndex("flow", ["flow", "t0"]);
  records.createIndex("t0", "t0");
  records.createIndex("w", "w");
  db.createObjectStore("meta", { keyPath: "key" });
  db.createObjectStore("pending", { autoIncrement: true });
}
