/**
 * A loopback OTLP/HTTP receiver for tests, on raw TCP (127.0.0.1, port 0) so
 * faults can be injected below HTTP: refuse connections while down, reset a
 * connection mid-request, commit a request and lose the response. Every
 * request body is gunzipped and decoded against the official OpenTelemetry
 * definitions (`otlp_schema.ts`).
 *
 * @module
 */
import { decodeOtlpRequest, uidsOf } from "./otlp_schema.ts";

/** What the receiver does with the next request. */
export type Fault =
  | { status: number; retryAfter?: string; body?: string }
  /** Close the connection after part of the request: the client sees a reset. */
  | "reset"
  /** Commit the request, then close without answering: the response is lost. */
  | "lose-response"
  /** Commit the request and never answer (until the receiver closes). */
  | "hang";

/** One request the receiver committed. */
export interface Received {
  signal: "logs" | "traces";
  uids: string[];
  // deno-lint-ignore no-explicit-any
  request: any;
  gzip: boolean;
}

const CRLF2 = new Uint8Array([13, 10, 13, 10]);

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The receiver; `faults` are applied to the next requests, in order, then 200s. */
export class OtlpReceiver {
  readonly port: number;
  readonly received: Received[] = [];
  readonly faults: Fault[] = [];
  /** Why requests that did not decode were refused (with a 400): a test expects none. */
  readonly invalid: string[] = [];
  /** Requests seen, faulty or not. */
  attempts = 0;
  /** Called with each committed request (e.g. to kill the sender); `false` loses the response. */
  onCommit: ((r: Received) => boolean | void) | null = null;
  #listener: Deno.Listener | null;
  #accepting: Promise<void> | null = null;
  readonly #conns = new Set<Deno.Conn>();
  readonly #serving = new Set<Promise<void>>();

  private constructor(listener: Deno.Listener) {
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept(listener);
  }

  /** Starts a receiver on a free loopback port. */
  static start(): OtlpReceiver {
    return new OtlpReceiver(Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  }

  /** Base URL for the uplink. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every uid received, per signal, in arrival order (duplicates kept). */
  uids(signal: "logs" | "traces" = "logs"): string[] {
    return this.received.filter((r) => r.signal === signal).flatMap((r) => r.uids);
  }

  /** Stops listening and drops open connections: connections are refused until `up()`. */
  async down(): Promise<void> {
    const listener = this.#listener;
    this.#listener = null;
    listener?.close();
    for (const conn of this.#conns) this.#closeConn(conn);
    await this.#accepting;
    await Promise.all([...this.#serving]);
  }

  /** Listens again on the same port. */
  up(): void {
    if (this.#listener !== null) return;
    const listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.#listener = listener;
    this.#accepting = this.#accept(listener);
  }

  /** Closes everything. */
  async close(): Promise<void> {
    await this.down();
  }

  async #accept(listener: Deno.Listener): Promise<void> {
    try {
      for await (const conn of listener) {
        this.#conns.add(conn);
        const serving = this.#serve(conn).finally(() => {
          this.#closeConn(conn);
          this.#serving.delete(serving);
        });
        this.#serving.add(serving);
      }
    } catch {
      // The listener was closed by down().
    }
  }

  #closeConn(conn: Deno.Conn): void {
    if (!this.#conns.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // Already closed by the peer.
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    let buffer = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    const fill = async (): Promise<boolean> => {
      let n: number | null;
      try {
        n = await conn.read(chunk);
      } catch {
        return false;
      }
      if (n === null) return false;
      const next = new Uint8Array(buffer.length + n);
      next.set(buffer);
      next.set(chunk.subarray(0, n), buffer.length);
      buffer = next;
      return true;
    };
    while (true) {
      let end: number;
      while ((end = indexOf(buffer, CRLF2)) < 0) if (!(await fill())) return;
      const head = new TextDecoder().decode(buffer.subarray(0, end));
      const [requestLine, ...lines] = head.split("\r\n");
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const length = Number(headers.get("content-length") ?? 0);
      const fault = this.faults.shift();
      this.attempts++;
      if (fault === "reset") {
        // Part of the request arrived; hang up before the rest.
        return;
      }
      while (buffer.length < end + 4 + length) if (!(await fill())) return;
      const raw = buffer.subarray(end + 4, end + 4 + length);
      buffer = buffer.slice(end + 4 + length);
      const path = requestLine!.split(" ")[1] ?? "";
      const signal: Received["signal"] | null = path === "/v1/logs"
        ? "logs"
        : path === "/v1/traces"
        ? "traces"
        : null;
      let status = 200;
      let body = "{}";
      let retryAfter: string | undefined;
      if (fault !== undefined && fault !== "lose-response" && fault !== "hang") {
        status = fault.status;
        body = fault.body ?? "{}";
        retryAfter = fault.retryAfter;
      } else if (signal === null) {
        status = 404;
      } else {
        const gzip = headers.get("content-encoding") === "gzip";
        let received: Received | null = null;
        try {
          const request = decodeOtlpRequest(signal, gzip ? await gunzip(raw) : raw);
          received = { signal, uids: uidsOf(signal, request), request, gzip };
        } catch (error) {
          this.invalid.push(String(error));
          status = 400;
          body = JSON.stringify({ message: String(error) });
        }
        if (received !== null) {
          this.received.push(received);
          if (this.onCommit?.(received) === false) return;
        }
      }
      if (fault === "lose-response") return;
      if (fault === "hang") {
        // Wait for the peer to give up or for down()/close() to close the connection.
        while (await fill());
        return;
      }
      const bytes = new TextEncoder().encode(body);
      const response = `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\n` +
        `content-length: ${bytes.length}\r\n` +
        (retryAfter === undefined ? "" : `retry-after: ${retryAfter}\r\n`) + "\r\n";
      const out = new Uint8Array([...new TextEncoder().encode(response), ...bytes]);
      try {
        for (let off = 0; off < out.length;) off += await conn.write(out.subarray(off));
      } catch {
        return;
      }
    }
  }
}
