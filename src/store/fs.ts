/**
 * The file-system operations the segment store needs, so the store logic runs
 * on any runtime and tests can inject failures. The Deno implementation is in
 * `_fs_deno.ts`.
 *
 * All operations are synchronous: the store runs in a worker thread, where
 * blocking calls are the fastest way to do small file I/O.
 *
 * @module
 */

/** How {@linkcode StoreFs.open} opens a file. */
export type OpenMode =
  /** Read only; the file must exist. */
  | "read"
  /** Read, and write at the end (`O_APPEND`); the file must exist. */
  | "append"
  /** Like `"append"`, but the file must not exist yet and is created. */
  | "create"
  /** Read and write, creating the file if missing (used for the lock file). */
  | "lock";

/** An open file. */
export interface StoreFile {
  /** Reads into `into` from `position`; returns the bytes read, short only at the end of the file. */
  read(position: number, into: Uint8Array): number;
  /** Writes all of `data` (at the end for `"append"`/`"create"`, else at the current position), or throws. */
  write(data: Uint8Array): void;
  /** Cuts the file to `length` bytes. */
  truncate(length: number): void;
  /** Current size in bytes. */
  size(): number;
  /** Flushes the file's data and metadata to stable storage. */
  sync(): void;
  /** Takes an exclusive advisory lock without waiting; returns false when another handle holds one. */
  tryLock(): boolean;
  /** Closes the file (releasing any lock it holds). */
  close(): void;
}

/** The file-system operations of the segment store. */
export interface StoreFs {
  /** Creates a directory and its parents; succeeds when it exists. */
  mkdir(path: string): void;
  /** Names of the entries of a directory. */
  list(path: string): string[];
  /** Reads a whole file. */
  readFile(path: string): Uint8Array;
  /** Opens a file; see {@linkcode OpenMode}. */
  open(path: string, mode: OpenMode): StoreFile;
  /** Removes a file. */
  remove(path: string): void;
  /** Flushes a directory's entries (new and removed files) to stable storage, where the platform allows. */
  syncDir(path: string): void;
  /** Joins a directory and a file name. */
  join(dir: string, name: string): string;
  /** True when `error` says the file or directory does not exist. */
  isNotFound(error: unknown): boolean;
}
