/**
 * What every CLI command shares: errors with exit codes, opening a store
 * read-only, buffered output, filters from flags, text formatting.
 *
 * @module
 */
import { type Stats, statSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { isLevelName, LEVELS } from "../level.ts";
import type { LogEvent } from "../event.ts";
import type { QueryFilter, QueryPage } from "../query/types.ts";
import { SegmentStore, type StoreStats } from "../store/segment_store.ts";
import { LOCK_FILE_NAME } from "../store/segment_format.ts";
import { type ReadDamage, segmentFileNames } from "../export/store_reader.ts";

/** Exit codes of the CLI. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Failed: not a store, unknown flow, I/O error. */
  error: 1,
  /** Bad usage: unknown command or flag, bad flag value. */
  usage: 2,
  /** Done with what is intact, but damaged data was skipped or segments are missing (or `verify` found either). */
  damaged: 3,
} as const;

/** A failure reported as one line on stderr, with an exit code. */
export class CliError extends Error {
  /** Always `"CliError"`. */
  override name: string = "CliError";
  /** Process exit code. */
  readonly exitCode: number;

  /** `message` says what was wrong and what to do. */
  constructor(message: string, exitCode: number = EXIT.error) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Standard streams of a command; injected by tests that run commands in-process. */
export interface CliIo {
  /** Writes to standard output. */
  out: Output;
  /** Writes a line to standard error. */
  err(line: string): void;
  /** Whether standard output is a terminal (colors, tables). */
  outIsTty: boolean;
  /** Whether standard error is a terminal (progress bars). */
  errIsTty: boolean;
  /** Resolves when the user interrupts (Ctrl-C): `tail -f` stops then. */
  interrupted: Promise<void>;
}

/**
 * Buffered text output to a file descriptor or a file; a closed pipe ends
 * output quietly. Text is encoded straight into one reused buffer, so
 * output makes no garbage of its own: a third of the cost of an export
 * went to joining and encoding strings before (bench/cli_figures.ts).
 */
export class Output {
  readonly #file: { writeSync(bytes: Uint8Array): number };
  readonly #encoder = new TextEncoder();
  readonly #buffer = new Uint8Array(1 << 20);
  #used = 0;
  #closedPipe = false;

  /** Writes to `file` (stdout or an open file). */
  constructor(file: { writeSync(bytes: Uint8Array): number }) {
    this.#file = file;
  }

  /** True once the reader of a pipe went away: stop producing output. */
  get closed(): boolean {
    return this.#closedPipe;
  }

  /** Appends text; writes whenever the buffer is full. */
  write(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    if (this.#used + 3 * text.length > this.#buffer.length) {
      this.flush();
      if (3 * text.length > this.#buffer.length) {
        this.#writeAll(this.#encoder.encode(text));
        return;
      }
    }
    this.#used += this.#encoder.encodeInto(text, this.#buffer.subarray(this.#used)).written;
  }

  /** Appends bytes (UTF-8 text); a view may be passed, it is copied or written at once. */
  writeBytes(bytes: Uint8Array): void {
    if (this.#used + bytes.length > this.#buffer.length) {
      this.flush();
      if (bytes.length > this.#buffer.length) return this.#writeAll(bytes);
    }
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  /** Writes everything buffered. */
  flush(): void {
    const used = this.#used;
    this.#used = 0;
    if (used > 0) this.#writeAll(this.#buffer.subarray(0, used));
  }

  #writeAll(bytes: Uint8Array): void {
    if (this.#closedPipe) return;
    try {
      let at = 0;
      while (at < bytes.length) at += this.#file.writeSync(bytes.subarray(at));
    } catch (error) {
      if (isBrokenPipe(error)) this.#closedPipe = true;
      else throw error;
    }
  }
}

/** True when `error` says the reader of a pipe went away (Deno's BrokenPipe, Node.js's EPIPE). */
function isBrokenPipe(error: unknown): boolean {
  if ((error as { code?: unknown } | null)?.code === "EPIPE") return true;
  return typeof Deno !== "undefined" && error instanceof Deno.errors.BrokenPipe;
}

/** Parses a command's flags; a wrong flag becomes a usage error naming the command's help. */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(
  command: string,
  args: string[],
  options: T,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.replace(/\. To specify.*$/s, "") : "";
    throw new CliError(
      `${message.replace(/\.$/, "")}: run \`flightlog help ${command}\` for its flags`,
      EXIT.usage,
    );
  }
}

/** The positional arguments, exactly `names` of them. */
export function positionals(command: string, given: string[], names: string[]): string[] {
  if (given.length !== names.length) {
    const usage = names.map((n) => `<${n}>`).join(" ");
    const what = given.length < names.length
      ? `Missing ${names.slice(given.length).map((n) => `<${n}>`).join(" ")}`
      : `Unexpected argument ${JSON.stringify(given[names.length])}`;
    throw new CliError(`${what}: usage is \`flightlog ${command} ${usage}\``, EXIT.usage);
  }
  return given;
}

/**
 * Checks that `dir` is a store directory: it exists, and holds segment files
 * or a writer's lock file (a logger that has not written yet).
 */
export function checkStoreDir(dir: string): void {
  let info: Stats;
  try {
    info = statSync(dir);
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENOENT") {
      throw new CliError(
        `No such directory ${dir}: pass the store directory given to createLogger({ dir }) (default .flightlog)`,
      );
    }
    throw new CliError(`Cannot read ${dir} (${errorText(error)}): check its permissions`);
  }
  if (!info.isDirectory()) {
    throw new CliError(
      `${dir} is a file, not a store directory: pass the directory that holds the seg-*.flog files`,
    );
  }
  let segments: string[];
  try {
    segments = segmentFileNames(dir);
  } catch (error) {
    throw new CliError(`Cannot list ${dir} (${errorText(error)}): check its permissions`);
  }
  if (segments.length > 0) return;
  try {
    statSync(`${dir}/${LOCK_FILE_NAME}`);
  } catch {
    throw new CliError(
      `${dir} is not a flightlog store (no seg-*.flog files): pass the directory given to createLogger({ dir })`,
    );
  }
}

/** Opens the store in `dir` read-only, next to a writer that may be live. */
export function openStore(dir: string): SegmentStore {
  checkStoreDir(dir);
  try {
    return SegmentStore.open(dir, { readOnly: true });
  } catch (error) {
    throw new CliError(`Cannot read the store ${dir}: ${errorText(error)}`);
  }
}

/** The message of an error, or its text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Damage a store instance found, as one line, or null when there is none. */
export function storeDamageLine(dir: string, stats: StoreStats): string | null {
  const d = stats.damage;
  return damageLine(dir, {
    regions: d.regions + d.read_failures,
    bytes: d.bytes,
    segments: d.duplicate_segments + d.unsupported_segments + d.bad_file_header,
    gaps: d.gaps,
    records: d.gap_records,
    events: d.gap_events,
  });
}

/**
 * The exit code of a command that read `dir` to the end: `EXIT.ok`, or
 * `EXIT.damaged` after saying on stderr what was skipped.
 */
export function damageExit(io: CliIo, dir: string, stats: StoreStats): number {
  const line = storeDamageLine(dir, stats);
  if (line === null) return EXIT.ok;
  io.err(line);
  return EXIT.damaged;
}

/** Damage a {@linkcode readStoreRecords} pass found, as one line, or null. */
export function readDamageLine(dir: string, damage: ReadDamage): string | null {
  return damageLine(dir, {
    regions: damage.regions,
    bytes: damage.bytes,
    segments: damage.skipped_segments + damage.bad_file_headers,
    gaps: damage.gaps,
    records: damage.gap_records,
    events: damage.gap_events,
  });
}

function damageLine(
  dir: string,
  d: {
    regions: number;
    bytes: number;
    segments: number;
    gaps: number;
    records: number;
    events: number;
  },
): string | null {
  if (d.regions === 0 && d.segments === 0 && d.gaps === 0) return null;
  const skipped: string[] = [];
  if (d.regions > 0) skipped.push(`${d.regions} damaged region(s), ${d.bytes} bytes`);
  if (d.segments > 0) skipped.push(`${d.segments} damaged or foreign segment file(s)`);
  const found: string[] = [];
  if (skipped.length > 0) found.push(`Skipped ${skipped.join(" and ")}`);
  if (d.gaps > 0) {
    found.push(
      `${
        found.length > 0 ? "found" : "Found"
      } ${d.gaps} gap(s) where segment files are missing (${d.records} records, ${d.events} events)`,
    );
  }
  return `${
    found.join("; ")
  } in ${dir}; everything intact was read: run \`flightlog verify ${dir}\` for where`;
}

/** The flags shared by `query`, `tail` and `export`. */
export const FILTER_FLAGS = {
  flow: { type: "string" },
  run: { type: "string" },
  level: { type: "string" },
  event: { type: "string" },
  node: { type: "string" },
  category: { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
  where: { type: "string", multiple: true },
} as const;

/** Parses a time flag: epoch milliseconds or an ISO 8601 date. */
export function parseTime(flag: string, text: string): number {
  const trimmed = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const ms = Date.parse(trimmed);
  if (Number.isNaN(ms)) {
    throw new CliError(
      `Invalid --${flag} ${
        JSON.stringify(text)
      }: give epoch milliseconds or an ISO 8601 date such as 2026-11-23T06:00:00Z`,
      EXIT.usage,
    );
  }
  return ms;
}

/** A where value: JSON scalars (`true`, `12`, `null`, `"x"`) are typed, anything else is a string. */
function parseWhereValue(text: string): string | number | boolean | null {
  if (text === "true") return true;
  if (text === "false") return false;
  if (text === "null") return null;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) {
    try {
      return JSON.parse(text) as string;
    } catch {
      // Not valid JSON: the text itself.
    }
  }
  return text;
}

/** The query filter that the filter flags describe. */
export function filterFromFlags(values: Record<string, unknown>): QueryFilter {
  const filter: QueryFilter = {};
  if (typeof values.flow === "string") filter.flow_id = values.flow;
  if (typeof values.run === "string") filter.run_id = values.run;
  if (typeof values.level === "string") {
    if (!isLevelName(values.level)) {
      throw new CliError(
        `Invalid --level ${JSON.stringify(values.level)}: use one of ${LEVELS.join(", ")}`,
        EXIT.usage,
      );
    }
    filter.level = values.level;
  }
  if (typeof values.event === "string") filter.event = values.event;
  if (typeof values.node === "string") filter.node = values.node;
  if (typeof values.category === "string") filter.category = values.category;
  if (typeof values.since === "string") filter.since_ms = parseTime("since", values.since);
  if (typeof values.until === "string") filter.until_ms = parseTime("until", values.until);
  if (Array.isArray(values.where)) {
    const where: Record<string, string | number | boolean | null> = {};
    for (const clause of values.where as string[]) {
      const at = clause.indexOf("=");
      if (at <= 0) {
        throw new CliError(
          `Invalid --where ${
            JSON.stringify(clause)
          }: write field=value, e.g. --where status=failed`,
          EXIT.usage,
        );
      }
      where[clause.slice(0, at)] = parseWhereValue(clause.slice(at + 1));
    }
    filter.where = where;
  }
  return filter;
}

/** Parses a positive integer flag. */
export function parseCount(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CliError(
      `Invalid --${flag} ${JSON.stringify(text)}: give a whole number of 0 or more`,
      EXIT.usage,
    );
  }
  return n;
}

const ANSI = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90 };

/** Colors text for a terminal, or returns it as is. */
export function paint(on: boolean, color: keyof typeof ANSI, text: string): string {
  return on ? `\x1b[${ANSI[color]}m${text}\x1b[39m` : text;
}

/** Epoch ms as an ISO 8601 date, or "-". */
export function isoTime(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "-";
  return new Date(ms).toISOString();
}

/** A duration for people: 850µs, 12.5ms, 3.20s, 4m05s, 2h03m. */
export function humanDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${Number(ms.toFixed(1))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(2)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** Lays rows out as aligned columns separated by two spaces. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ""))));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - visible(c)))
      .join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

function visible(text: string): number {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[\d+m/g, "").length;
}

/**
 * One page of `store.query(filter)`; a filter the store refuses (a bad glob,
 * level or cursor) is a usage error that says what was wrong.
 */
export function queryPage(store: SegmentStore, filter: QueryFilter): QueryPage {
  try {
    return store.query(filter);
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) {
      throw new CliError(errorText(error), EXIT.usage);
    }
    throw error;
  }
}

/** Events per page of a command's query: bounds the memory a page holds. */
const QUERY_PAGE = 10_000;

/**
 * The events of `store.query(filter)` a page at a time, up to `limit` in all,
 * with {@linkcode queryPage}'s usage errors. A page is queried only when the
 * caller asks for it, so a caller that stops early (its output closed) stops
 * the query too.
 */
export function* queryPages(
  store: SegmentStore,
  filter: QueryFilter,
  limit = Infinity,
): Generator<readonly LogEvent[], void, undefined> {
  let left = limit;
  let cursor: string | null = null;
  while (left > 0) {
    const page: QueryFilter = { ...filter, limit: Math.min(QUERY_PAGE, left) };
    if (cursor !== null) page.cursor = cursor;
    const result = queryPage(store, page);
    yield result.events;
    left -= result.events.length;
    cursor = result.cursor;
    if (cursor === null) return;
  }
}

/** Parses `--format`: one of `allowed`, the first when the flag is absent. */
export function parseFormat(text: string | undefined, allowed: readonly string[]): string {
  const format = text ?? allowed[0]!;
  if (!allowed.includes(format)) {
    throw new CliError(
      `Invalid --format ${JSON.stringify(format)}: use one of ${allowed.join(", ")}`,
      EXIT.usage,
    );
  }
  return format;
}

/** What a command that reads a store through filters takes besides the filter flags. */
export interface FilteredOptions<
  Format extends string,
  F extends ParseArgsOptions,
  C extends keyof F & string,
> {
  /** The `--format` values it accepts; the first is the default unless `formatRequired`. */
  formats: readonly Format[];
  /** Whether `--format` must be given. @default {false} */
  formatRequired?: boolean;
  /** Its own flags. */
  flags: F;
  /** Those of its own flags that are counts, with their defaults, parsed in this order. */
  counts?: Record<C, number>;
}

type ParseArgsOptions = NonNullable<ParseArgsConfig["options"]>;

/**
 * The opening of `query`, `tail` and `export`: flags (the filter flags, `--format` and
 * the command's own), one store dir, the format, the counts and the filter, each checked
 * in that order so that the first wrong one is the one reported. The store dir is not
 * checked: {@linkcode openFiltered} opens it, `export` reads its files itself.
 */
export function parseFiltered<
  const Format extends string,
  F extends ParseArgsOptions,
  C extends keyof F & string = never,
>(command: string, args: string[], options: FilteredOptions<Format, F, C>) {
  const { values, positionals: given } = parseFlags(command, args, {
    ...FILTER_FLAGS,
    format: { type: "string" },
    ...options.flags,
  });
  const [dir] = positionals(command, given, ["store dir"]);
  // The values' type is resolved only where `F` is known: read them here as plain strings.
  const raw = values as Record<string, string | undefined>;
  const { formats } = options;
  if (options.formatRequired && raw.format === undefined) {
    const choices = formats.map((f) => `--format ${f}`);
    throw new CliError(
      `Missing --format: give ${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`,
      EXIT.usage,
    );
  }
  const format = parseFormat(raw.format, formats) as Format;
  const counts = {} as Record<C, number>;
  for (const [flag, fallback] of Object.entries(options.counts ?? {}) as [C, number][]) {
    counts[flag] = parseCount(flag, raw[flag], fallback);
  }
  return { values, dir: dir!, format, counts, filter: filterFromFlags(raw) };
}

/** {@linkcode parseFiltered}, then the store opened read-only: the caller closes it. */
export function openFiltered<
  const Format extends string,
  F extends ParseArgsOptions,
  C extends keyof F & string = never,
>(command: string, args: string[], options: FilteredOptions<Format, F, C>) {
  const parsed = parseFiltered(command, args, options);
  return { ...parsed, store: openStore(parsed.dir) };
}

/**
 * The whole of a command that takes `<store dir> [--json]` and reads the segment files
 * itself: checks the dir, reads it, writes the report as JSON or as `text` renders it.
 */
export function reportStore<R>(
  command: string,
  args: string[],
  io: CliIo,
  read: (dir: string) => R,
  text: (report: R, dir: string) => string,
): { dir: string; report: R } {
  const { values, positionals: given } = parseFlags(command, args, { json: { type: "boolean" } });
  const [dir] = positionals(command, given, ["store dir"]);
  checkStoreDir(dir!);
  const report = read(dir!);
  io.out.write(values.json ? JSON.stringify(report, null, 2) + "\n" : text(report, dir!));
  return { dir: dir!, report };
}

/** The error for a flow the store has no event of. */
export function unknownFlow(dir: string, flowId: string): CliError {
  return new CliError(
    `Unknown flow ${
      JSON.stringify(flowId)
    } in ${dir}: run \`flightlog flows ${dir}\` to list the flows`,
  );
}
