/**
 * The uplink's own files in the store directory, with Deno's file API: the
 * durable delivery cursor per signal and the dead-letter area. The IndexedDB
 * store implements {@linkcode UplinkFiles} with its own object store.
 *
 * @module
 */
import { denoFs } from "../store/_fs_deno.ts";
import type { UplinkFiles } from "./uplink.ts";

/** Dead-letter files kept; the oldest go first, so the area stays bounded. */
const MAX_DEAD_LETTERS = 64;

/**
 * Files in `dir`: `uplink-<signal>.cursor` holds the acknowledged position
 * as text (`<seq> <skip>`, padded with spaces to 31 characters and a
 * newline). A durable save replaces it atomically (write a temporary file,
 * fsync, rename, fsync the directory). A save that need not be durable (one
 * per batch) overwrites those 32 bytes in place through a handle kept open:
 * one write at offset 0, which a crash of the process cannot tear, instead of
 * five file-system calls (1.6 ms a batch on a loaded machine, more than the
 * rest of the uplink's work; bench/uplink_throughput.ts). A power loss leaves
 * the last durable position or a later one. Dead letters go to
 * `dead-letter/`. {@linkcode UplinkFiles.close} closes the handles.
 */
export function denoUplinkFiles(dir: string): UplinkFiles & { close(): void } {
  const cursorPath = (signal: string) => `${dir}/uplink-${signal}.cursor`;
  const deadDir = `${dir}/dead-letter`;
  const handles = new Map<string, Deno.FsFile>();
  const closeHandle = (signal: string) => {
    handles.get(signal)?.close();
    handles.delete(signal);
  };
  return {
    loadCursor(signal) {
      let text: string;
      try {
        text = Deno.readTextFileSync(cursorPath(signal));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return null;
        throw error;
      }
      // A file that is not "<seq> <skip>" is no position: delivery restarts from the oldest record.
      const match = /^(\d{1,15}) (\d{1,15})$/.exec(text.trim());
      return match === null ? null : { seq: Number(match[1]), skip: Number(match[2]) };
    },
    saveCursor(signal, { seq, skip }, durable) {
      const path = cursorPath(signal);
      // Fixed width: an in-place write always covers the whole previous text.
      const bytes = new TextEncoder().encode(`${seq} ${skip}`.padEnd(CURSOR_WIDTH) + "\n");
      if (!durable) {
        let handle = handles.get(signal);
        if (handle === undefined) {
          try {
            handle = Deno.openSync(path, { write: true });
            handles.set(signal, handle);
          } catch (error) {
            // No file yet: the first save creates it atomically below.
            if (!(error instanceof Deno.errors.NotFound)) throw error;
          }
        }
        if (handle !== undefined) {
          handle.seekSync(0, Deno.SeekMode.Start);
          writeAll(handle, bytes);
          return;
        }
      }
      // The rename replaces the file: a handle on the old one must not be written again.
      closeHandle(signal);
      const temp = `${path}.tmp`;
      const file = Deno.openSync(temp, { write: true, create: true, truncate: true });
      try {
        writeAll(file, bytes);
        if (durable) file.syncSync();
      } finally {
        file.close();
      }
      Deno.renameSync(temp, path);
      if (durable) denoFs.syncDir(dir);
    },
    close() {
      for (const signal of [...handles.keys()]) closeHandle(signal);
    },
    writeDeadLetter(name, body) {
      Deno.mkdirSync(deadDir, { recursive: true });
      Deno.writeFileSync(`${deadDir}/${name}`, body);
      const names = [...Deno.readDirSync(deadDir)].map((e) => e.name).sort();
      for (const old of names.slice(0, Math.max(0, names.length - MAX_DEAD_LETTERS))) {
        Deno.removeSync(`${deadDir}/${old}`);
      }
    },
  };
}

/** Characters of `<seq> <skip>` in a cursor file, before its newline: two 15-digit numbers fit. */
const CURSOR_WIDTH = 31;

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}
