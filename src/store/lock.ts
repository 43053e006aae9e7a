/**
 * The store lock: one writer per store directory (docs/internals.md "The
 * lock").
 *
 * @module
 */
import { denoFs } from "./_fs_deno.ts";
import { processId, StoreLockedError } from "./errors.ts";
import type { StoreFs } from "./fs.ts";
import { LOCK_FILE_NAME, WRITER_ID_SIZE } from "./segment_format.ts";

/** The lock of a store directory, held by {@linkcode lockStoreDir}'s caller. */
export interface StoreLock {
  /** Who holds it, as written into the lock file. */
  readonly holder: string;
  /** Releases the lock (closes the lock file). Idempotent. */
  release(): void;
}

/** Options of {@linkcode lockStoreDir}. */
export interface LockOptions {
  /**
   * File system to use.
   * @default {denoFs}
   */
  fs?: StoreFs;
  /**
   * The writer's id, written into the lock file (and into the headers of the segments it begins).
   * @default {8 random bytes}
   */
  writerId?: Uint8Array;
  /**
   * The time, in epoch milliseconds, written into the lock file.
   * @default {Date.now}
   */
  clock?: () => number;
  /**
   * The process id written into the lock file, for the error another writer
   * gets; null leaves it out.
   * @default {this process's id}
   */
  pid?: number | null;
}

/**
 * Takes the exclusive lock of a store directory (its `lock` file) and writes
 * the holder into it (`pid N, writer HEX, opened ISO-TIME`); throws a {@linkcode StoreLockedError} naming the
 * holder when another handle holds it. `SegmentStore.open()` takes it itself
 * unless told with `lockHeld` that its caller holds it: the logger's thread
 * holds it for its worker, so a replacement worker never waits for a dead
 * one's lock (docs/internals.md "Worker restart").
 *
 * @example Keep a second writer out
 * ```ts
 * import { lockStoreDir } from "./lock.ts";
 * import { processId, StoreLockedError } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * const lock = lockStoreDir(dir);
 * assert.throws(() => lockStoreDir(dir), StoreLockedError);
 * lock.release();
 * lockStoreDir(dir).release();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function lockStoreDir(dir: string, options: LockOptions = {}): StoreLock {
  const fs = options.fs ?? denoFs;
  fs.mkdir(dir);
  const lock = fs.open(fs.join(dir, LOCK_FILE_NAME), "lock");
  if (!lock.tryLock()) {
    let holder: string | null = null;
    try {
      const bytes = new Uint8Array(256);
      holder = new TextDecoder().decode(bytes.subarray(0, lock.read(0, bytes))).trim() || null;
    } finally {
      lock.close();
    }
    throw new StoreLockedError(dir, holder);
  }
  const openedMs = (options.clock ?? Date.now)();
  const date = new Date(openedMs);
  const opened = Number.isNaN(date.getTime()) ? String(openedMs) : date.toISOString();
  const writerId = options.writerId ?? crypto.getRandomValues(new Uint8Array(WRITER_ID_SIZE));
  const pid = options.pid === undefined ? processId() : options.pid;
  const holder = `${pid === undefined || pid === null ? "" : `pid ${pid}, `}writer ${
    toHex(writerId)
  }, opened ${opened}`;
  try {
    lock.truncate(0);
    lock.write(new TextEncoder().encode(holder + "\n"));
  } catch (error) {
    lock.close();
    throw error;
  }
  let held = true;
  return {
    holder,
    release() {
      if (!held) return;
      held = false;
      lock.close();
    },
  };
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
