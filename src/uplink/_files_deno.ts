/**
 * The uplink's own files in the store directory, with Deno's file API: the
 * durable delivery cursor per signal and the dead-letter area. The IndexedDB
 * store implements {@linkcode UplinkFiles} with its own object store.
 *
 * @module
 */
import type { UplinkFiles } from "./uplink.ts";

/** Dead-letter files kept; the oldest go first, so the area stays bounded. */
const MAX_DEAD_LETTERS = 64;

/**
 * Files in `dir`: `uplink-<signal>.cursor` holds the acknowledged position
 * as text (`<seq> <skip>`); it is replaced atomically (write a temporary
 * file, rename), so a crash leaves the old or the new position, never a torn
 * one; a durable save also fsyncs the file before the rename and the
 * directory after. Dead letters go to `dead-letter/`.
 */
export function denoUplinkFiles(dir: string): UplinkFiles {
  const cursorPath = (signal: string) => `${dir}/uplink-${signal}.cursor`;
  const deadDir = `${dir}/dead-letter`;
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
      const temp = `${path}.tmp`;
      const file = Deno.openSync(temp, { write: true, create: true, truncate: true });
      try {
        file.writeSync(new TextEncoder().encode(`${seq} ${skip}\n`));
        if (durable) file.syncSync();
      } finally {
        file.close();
      }
      Deno.renameSync(temp, path);
      if (durable) syncDir(dir);
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

function syncDir(dir: string): void {
  if (Deno.build.os === "windows") return;
  const handle = Deno.openSync(dir, { read: true });
  try {
    handle.syncSync();
  } finally {
    handle.close();
  }
}
