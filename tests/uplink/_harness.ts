/**
 * Test harness: a segment store in a temp dir, a loopback receiver and an
 * uplink on a simulated clock, driven step by step.
 *
 * @module
 */
import type { LogEvent } from "../../src/event.ts";
import type { SegmentStoreOptions } from "../../src/store/segment_options.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { denoUplinkFiles } from "../../src/uplink/_files_deno.ts";
import { gzipDeno } from "../../src/uplink/_gzip_deno.ts";
import { resolveUplinkOptions, type UplinkOptions } from "../../src/uplink/options.ts";
import { Uplink, type UplinkRuntime } from "../../src/uplink/uplink.ts";
import { OtlpReceiver } from "../support/otlp_receiver.ts";
import { makeEvent } from "../support/log_event.ts";

export function events(from: number, count: number, producer = "p.1"): LogEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const fields = { step_id: `s${from + i}`, duration_ms: 1.5 };
    return makeEvent(1_700_000_000_000 + from + i, fields, { producer, seq: from + i });
  });
}

export class Harness {
  now = 1_700_000_000_000;
  readonly dir: string;
  readonly store: SegmentStore;
  readonly receiver: OtlpReceiver;
  uplink: Uplink;
  /** The waits step() asked for, in order. */
  readonly waits: number[] = [];
  readonly #options: UplinkOptions;
  readonly #runtime: Partial<UplinkRuntime>;

  private constructor(
    dir: string,
    storeOptions: SegmentStoreOptions,
    options: Partial<UplinkOptions>,
    runtime: Partial<UplinkRuntime>,
  ) {
    this.dir = dir;
    this.receiver = OtlpReceiver.start();
    this.store = SegmentStore.open(dir, {
      ...storeOptions,
      clock: () => this.now,
      onEvict: (records) => this.uplink?.onStoreEvict(records),
    });
    this.#options = { url: this.receiver.url, signals: ["logs"], batchEvents: 25, ...options };
    this.#runtime = runtime;
    this.uplink = this.#newUplink();
  }

  static async open(
    options: Partial<UplinkOptions> = {},
    storeOptions: SegmentStoreOptions = {},
    runtime: Partial<UplinkRuntime> = {},
  ): Promise<Harness> {
    return new Harness(await Deno.makeTempDir(), storeOptions, options, runtime);
  }

  #newUplink(): Uplink {
    return new Uplink(resolveUplinkOptions(this.#options), {
      source: this.store,
      files: denoUplinkFiles(this.dir),
      clock: () => this.now,
      random: () => 0.5,
      gzip: gzipDeno,
      ...this.#runtime,
    });
  }

  /** Closes the uplink (saving its positions) and starts a new one on the same store: a clean restart. */
  async restart(): Promise<void> {
    await this.uplink.close();
    this.uplink = this.#newUplink();
  }

  /** Steps until every signal's position reaches the store's last record, advancing the clock by each wait. */
  async deliver(maxSteps = 1000): Promise<void> {
    for (let i = 0; i < maxSteps; i++) {
      const caughtUp = Object.values(this.uplink.positions()).every((p) => p >= this.store.lastSeq);
      if (caughtUp) return;
      const wait = await this.uplink.step();
      this.waits.push(wait);
      this.now += wait;
    }
    throw new Error(
      `Not delivered after ${maxSteps} steps: ${JSON.stringify(this.uplink.stats())}`,
    );
  }

  async close(): Promise<void> {
    await this.uplink.close();
    if (this.receiver.invalid.length > 0) {
      throw new Error(`The receiver refused payloads: ${this.receiver.invalid.join("; ")}`);
    }
    this.store.close();
    await this.receiver.close();
    await Deno.remove(this.dir, { recursive: true });
  }
}

type HarnessTest = (h: Harness) => Promise<void>;

/** Runs `fn` on a fresh {@linkcode Harness}, then closes it, whatever `fn` did. */
export function withHarness(fn: HarnessTest): Promise<void>;
export function withHarness(options: Partial<UplinkOptions>, fn: HarnessTest): Promise<void>;
export function withHarness(
  options: Partial<UplinkOptions>,
  storeOptions: SegmentStoreOptions,
  runtime: Partial<UplinkRuntime>,
  fn: HarnessTest,
): Promise<void>;
export async function withHarness(...args: unknown[]): Promise<void> {
  const fn = args.pop() as HarnessTest;
  const h = await Harness.open(...(args as Parameters<typeof Harness.open>));
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** The uids of `list`. */
export function uidsOfEvents(list: LogEvent[]): string[] {
  return list.map((e) => `${e.producer}:${e.seq}`);
}
