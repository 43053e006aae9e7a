/**
 * {@linkcode StoreFs} on Deno's synchronous file API.
 *
 * @module
 */
import type { OpenMode, StoreFile, StoreFs } from "./fs.ts";

const OPEN_OPTIONS: Record<OpenMode, Deno.OpenOptions> = {
  read: { read: true },
  append: { read: true, append: true },
  create: { read: true, append: true, createNew: true },
  lock: { read: true, write: true, create: true },
};

class DenoStoreFile implements StoreFile {
  readonly #file: Deno.FsFile;

  constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  read(position: number, into: Uint8Array): number {
    this.#file.seekSync(position, Deno.SeekMode.Start);
    let done = 0;
    while (done < into.length) {
      const n = this.#file.readSync(into.subarray(done));
      if (n === null || n === 0) break;
      done += n;
    }
    return done;
  }

  write(data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const n = this.#file.writeSync(data.subarray(done));
      if (n <= 0) throw new Error(`Write made no progress after ${done} of ${data.length} bytes`);
      done += n;
    }
  }

  truncate(length: number): void {
    this.#file.truncateSync(length);
  }

  size(): number {
    return this.#file.statSync().size;
  }

  sync(): void {
    this.#file.syncSync();
  }

  tryLock(): boolean {
    return this.#file.tryLockSync(true);
  }

  close(): void {
    this.#file.close();
  }
}

/**
 * The Deno file system.
 *
 * @example List a temporary directory
 * ```ts
 * import { denoFs } from "./_fs_deno.ts";
 * import assert from "node:assert/strict";
 * const dir = Deno.makeTempDirSync();
 * assert.deepEqual(denoFs.list(dir), []);
 * Deno.removeSync(dir);
 * ```
 */
export const denoFs: StoreFs = {
  mkdir(path) {
    Deno.mkdirSync(path, { recursive: true });
  },
  list(path) {
    const names: string[] = [];
    for (const entry of Deno.readDirSync(path)) names.push(entry.name);
    return names;
  },
  readFile(path) {
    return Deno.readFileSync(path);
  },
  open(path, mode) {
    return new DenoStoreFile(Deno.openSync(path, OPEN_OPTIONS[mode]));
  },
  remove(path) {
    Deno.removeSync(path);
  },
  syncDir(path) {
    // Windows cannot open a directory as a file; there a directory needs no separate flush.
    if (Deno.build.os === "windows") return;
    const dir = Deno.openSync(path, { read: true });
    try {
      dir.syncSync();
    } finally {
      dir.close();
    }
  },
  join(dir, name) {
    return dir.endsWith("/") || dir.endsWith("\\") ? dir + name : `${dir}/${name}`;
  },
  isNotFound(error) {
    return error instanceof Deno.errors.NotFound;
  },
};
