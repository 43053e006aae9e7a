/**
 * The uplink's own files in the store directory, on `node:fs` for Node.js:
 * the same files, the same text and the same replacement steps as
 * `_files_deno.ts` (see there), so a store moves between runtimes with its
 * delivery cursors.
 *
 * @module
 */
import * as fs from "node:fs";
import { nodeFs } from "../store/_fs_node.ts";
import type { UplinkFiles } from "./uplink.ts";

/** Dead-letter files kept; the oldest go first, so the area stays bounded. */
const MAX_DEAD_LETTERS = 64;

/** Characters of `<seq> <skip>` in a cursor file, before its newline: two 15-digit numbers fit. */
const CURSOR_WIDTH = 31;

function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "ENOENT";
}

/**
 * The uplink's files in `dir` (their format: `denoUplinkFiles` in
 * `_files_deno.ts`); {@linkcode UplinkFiles.close} closes the handles kept open.
 */
export function nodeUplinkFiles(dir: string): UplinkFiles & { close(): void } {
  const cursorPath = (signal: string) => `${dir}/uplink-${signal}.cursor`;
  const deadDir = `${dir}/dead-letter`;
  const handles = new Map<string, number>();
  const closeHandle = (signal: string) => {
    const fd = handles.get(signal);
    if (fd !== undefined) fs.closeSync(fd);
    handles.delete(signal);
  };
  return {
    loadCursor(signal) {
      let text: string;
      try {
        text = fs.readFileSync(cursorPath(signal), "utf8");
      } catch (error) {
        if (isNotFound(error)) return null;
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
        let fd = handles.get(signal);
        if (fd === undefined) {
          try {
            fd = fs.openSync(path, "r+");
            handles.set(signal, fd);
          } catch (error) {
            // No file yet: the first save creates it atomically below.
            if (!isNotFound(error)) throw error;
          }
        }
        if (fd !== undefined) {
          writeAll(fd, bytes, 0);
          return;
        }
      }
      // The rename replaces the file: a handle on the old one must not be written again.
      closeHandle(signal);
      const temp = `${path}.tmp`;
      const fd = fs.openSync(temp, "w");
      try {
        writeAll(fd, bytes, 0);
        if (durable) fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, path);
      if (durable) nodeFs.syncDir(dir);
    },
    close() {
      for (const signal of [...handles.keys()]) closeHandle(signal);
    },
    writeDeadLetter(name, body) {
      fs.mkdirSync(deadDir, { recursive: true });
      fs.writeFileSync(`${deadDir}/${name}`, body);
      const names = fs.readdirSync(deadDir).sort();
      for (const old of names.slice(0, Math.max(0, names.length - MAX_DEAD_LETTERS))) {
        fs.unlinkSync(`${deadDir}/${old}`);
      }
    },
  };
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}
