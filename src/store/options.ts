/**
 * Retention and rotation of a store: the options of the `store` key of
 * `createLogger()`, shared by the segment-file store and IndexedDB.
 *
 * @module
 */

/** Retention and rotation of the segment-file store. */
export interface StoreOptions {
  /**
   * Size at which a segment file is sealed and a new one begun.
   * @default {8388608}
   */
  segmentBytes?: number;
  /**
   * Total bytes kept; the oldest segments are evicted beyond it.
   * @default {536870912}
   */
  maxBytes?: number;
  /**
   * Age after which a sealed segment is evicted.
   * @default {604800000}
   */
  maxAgeMs?: number;
}
