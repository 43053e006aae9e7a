/**
 * The exit hooks of every live logger in a process (Deno, Node.js): one set,
 * whose runtime listeners are installed with the first hook and removed with
 * the last, so closed loggers leave nothing behind; and the SIGINT / SIGTERM
 * listener both runtimes give it.
 *
 * @module
 */

/** The runtime's side of {@linkcode ExitHooks}. */
export interface ExitListeners {
  /** Starts calling `run` at exit (and on the signals). */
  install(run: () => void): void;
  /** Stops it. */
  uninstall(): void;
}

/** The hooks of every live logger; see the module doc. */
export class ExitHooks {
  readonly #hooks = new Set<() => void>();
  readonly #listeners: ExitListeners;
  readonly #run = (): void => this.run();

  constructor(listeners: ExitListeners) {
    this.#listeners = listeners;
  }

  /** Runs every hook, synchronously. */
  run(): void {
    for (const hook of this.#hooks) {
      try {
        hook();
      } catch {
        // One logger's failed flush must not stop the others'.
      }
    }
  }

  /** Adds `flush`; returns the function that removes it. */
  add(flush: () => void): () => void {
    this.#hooks.add(flush);
    if (this.#hooks.size === 1) this.#listeners.install(this.#run);
    return () => {
      if (this.#hooks.delete(flush) && this.#hooks.size === 0) this.#listeners.uninstall();
    };
  }
}

/**
 * A SIGINT / SIGTERM listener: runs the hooks, then ends the process with
 * `code` (128 + the signal's number, as it would have ended without a
 * listener) unless the application listens to the signal itself: then the
 * signal is the application's to act on (a graceful shutdown).
 */
export function signalListener(
  hooks: ExitHooks,
  code: 130 | 143,
  appListens: () => boolean,
  exit: (code: number) => void,
): () => void {
  return () => {
    hooks.run();
    if (!appListens()) exit(code);
  };
}
