/**
 * The structured-cloneable handle that lets an application Worker log into the
 * store of the logger that made it (`logger.producerHandle()`, `attachLogger()`).
 *
 * @module
 */
import type { LevelName } from "../level.ts";
import type { Limits } from "../wire/codec.ts";

/** What `logger.producerHandle()` returns; post it to a Worker. */
export interface ProducerHandle {
  /** Marks the object as a producer handle. */
  readonly kind: "flightlog-producer";
  /** The producer id the attached logger writes under. */
  readonly producer: string;
  /** The attached logger's own ring, already registered with the worker. */
  readonly ring: SharedArrayBuffer;
  /** The store's control buffer (wake-up word and flush handshake). */
  readonly control: SharedArrayBuffer;
  /** The level of the logger that made the handle (the default for the attached one). */
  readonly level: LevelName;
  /** The limits of the logger that made the handle. */
  readonly limits: Limits;
}
