/**
 * {@linkcode StoreFs} on `node:fs`, for Node.js. The bytes written are the
 * store's own (the segment format does not depend on the file system), so a
 * store written here is read by the Deno CLI and the reverse.
 *
 * Node.js has no file-lock call, and the lock must exclude a Deno writer
 * too, which takes `flock(2)` on the lock file (docs/internals.md "The
 * lock"). So the lock is the same `flock(2)`, taken on this process's own
 * open file: through `O_EXLOCK` where the system has it (macOS, BSDs), else
 * by util-linux's `flock` command run once on the inherited descriptor. A
 * `flock(2)` lock belongs to the open file, not to the process that asked,
 * so it stays held after the command ends, until this process closes the
 * file or dies.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import process from "node:process";
import type { OpenMode, StoreFile, StoreFs } from "./fs.ts";

const C = fs.constants;

const OPEN_FLAGS: Record<OpenMode, number> = {
  read: C.O_RDONLY,
  append: C.O_RDWR | C.O_APPEND,
  create: C.O_RDWR | C.O_APPEND | C.O_CREAT | C.O_EXCL,
  lock: C.O_RDWR | C.O_CREAT,
};

// flock(1) exits with this when another open file holds the lock (-E).
const LOCK_BUSY = 75;

/** The `code` of a Node.js system error (`ENOENT`...), or undefined. */
function errorCode(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

/** A view of `bytes` that is a plain Uint8Array (Buffer's slice() does not copy). */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

class NodeStoreFile implements StoreFile {
  #fd: number;
  readonly #path: string;
  #closed = false;

  constructor(fd: number, path: string) {
    this.#fd = fd;
    this.#path = path;
  }

  read(position: number, into: Uint8Array): number {
    let done = 0;
    while (done < into.length) {
      const n = fs.readSync(this.#fd, into, done, into.length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  write(data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      // No position: O_APPEND files write at the end, the lock file at its offset.
      const n = fs.writeSync(this.#fd, data, done, data.length - done);
      if (n <= 0) throw new Error(`Write made no progress after ${done} of ${data.length} bytes`);
      done += n;
    }
  }

  truncate(length: number): void {
    fs.ftruncateSync(this.#fd, length);
  }

  size(): number {
    return fs.fstatSync(this.#fd).size;
  }

  sync(): void {
    fs.fsyncSync(this.#fd);
  }

  tryLock(): boolean {
    const exlock = (C as { O_EXLOCK?: number }).O_EXLOCK;
    if (exlock !== undefined) return this.#tryExlock(exlock);
    if (process.platform === "win32") {
      throw new Error(
        `Cannot lock ${this.#path}: on Windows, Node.js has no way to take the store lock ` +
          "that Deno writers honour; write stores under Deno there (the CLI, which takes no " +
          "lock, reads them on Node.js too)",
      );
    }
    const r = spawnSync("flock", ["--nonblock", "--conflict-exit-code", String(LOCK_BUSY), "3"], {
      stdio: ["ignore", "ignore", "pipe", this.#fd],
    });
    if (r.status === 0) return true;
    if (r.status === LOCK_BUSY) return false;
    const why = r.error !== undefined
      ? (errorCode(r.error) === "ENOENT" ? "the flock command was not found" : r.error.message)
      : (r.stderr?.toString().trim() || `flock exited with ${r.status ?? r.signal}`);
    throw new Error(
      `Cannot lock ${this.#path} (${why}): on Node.js flightlog takes the store lock with ` +
        "util-linux's flock command; install it (Debian, Ubuntu: apt-get install util-linux)",
    );
  }

  // macOS and the BSDs: a second open of the file with O_EXLOCK takes the
  // flock(2) lock; the first descriptor is then closed and the locked one kept.
  #tryExlock(exlock: number): boolean {
    let fd: number;
    try {
      fd = fs.openSync(this.#path, C.O_RDWR | exlock | C.O_NONBLOCK);
    } catch (error) {
      if (errorCode(error) === "EAGAIN") return false;
      throw error;
    }
    fs.closeSync(this.#fd);
    this.#fd = fd;
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    fs.closeSync(this.#fd);
  }
}

/**
 * The Node.js file system.
 *
 * @example List a temporary directory
 * ```ts
 * import { nodeFs } from "./_fs_node.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * assert.deepEqual(nodeFs.list(dir), []);
 * Deno.removeSync(dir);
 * ```
 */
export const nodeFs: StoreFs = {
  mkdir(path) {
    fs.mkdirSync(path, { recursive: true });
  },
  list(path) {
    return fs.readdirSync(path);
  },
  readFile(path) {
    return plain(fs.readFileSync(path));
  },
  open(path, mode) {
    return new NodeStoreFile(fs.openSync(path, OPEN_FLAGS[mode], 0o666), path);
  },
  remove(path) {
    fs.unlinkSync(path);
  },
  syncDir(path) {
    // Windows cannot open a directory as a file; there a directory needs no separate flush.
    if (process.platform === "win32") return;
    const fd = fs.openSync(path, C.O_RDONLY);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  join(dir, name) {
    return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : `${dir}/${name}`;
  },
  isNotFound(error) {
    return errorCode(error) === "ENOENT";
  },
};
