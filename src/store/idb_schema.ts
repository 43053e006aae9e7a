/**
 * The IndexedDB schema, shared by the worker's store (`idb_store.ts`, which
 * documents the layout) and the page's unload spill (`platform/browser.ts`),
 * which opens the database without `idb` and must create the same schema when
 * it is first.
 *
 * @module
 */

/** Schema version of the flightlog database. */
export const DB_VERSION = 1;

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
