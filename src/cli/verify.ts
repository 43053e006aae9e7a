/**
 * `flightlog verify <dir>`: checks every segment's header and every record's
 * framing, checksum, sequence and payload, reports each damaged region by
 * file, offset and size, and each gap where segment files are missing
 * between surviving ones (docs/internals.md "Gaps"). Exit code 0
 * when everything is intact, 3 (`EXIT.damaged`) when damage or a gap was
 * found: what is there reads fine, but data is gone.
 *
 * The walk is the one every reader does (`record_scanner.ts`): after a bad
 * byte it resumes at the next record magic whose record is intact; here
 * each skipped region is reported instead of only counted.
 *
 * @module
 */
import { walkSegments } from "../export/store_reader.ts";
import { type RecordDefect, scanRecords } from "../store/record_scanner.ts";
import { unpackEvents } from "../store/payload_codec.ts";
import type { SegmentGap } from "../store/segment_gaps.ts";
import { FORMAT_VERSION, segmentFileName } from "../store/segment_format.ts";
import { type CliIo, errorText, EXIT, paint, reportStore } from "./_common.ts";

/** One finding of `verify`. */
export interface Finding {
  /** Segment file name. */
  segment: string;
  /** Byte offset in the file. */
  offset: number;
  /** Bytes concerned. */
  bytes: number;
  /**
   * Kind: file_header, version, duplicate, gap, magic, length, checksum,
   * header, payload, stale, torn_tail, unfinished. A gap is reported on the
   * segment after it, at offset 0, with the missing segment's bytes.
   */
  kind: string;
  /** What is wrong, for people. */
  message: string;
  /** False for notes that are not damage (an unfinished record a live writer may still be writing). */
  damage: boolean;
  /** For a gap: what is known to be missing. */
  gap?: SegmentGap;
}

/** Totals of `verify`. */
export interface VerifyReport {
  /** Segment files checked. */
  segments: number;
  /** Intact records. */
  records: number;
  /** Events in them. */
  events: number;
  /** Everything found. */
  findings: Finding[];
}

function gapMessage(gap: SegmentGap): string {
  const missing = segmentFileName(gap.missing);
  const others = gap.more
    ? `; segments numbered after ${segmentFileName(gap.after)} and before it may be missing too`
    : "";
  return `${missing} is missing (deleted or lost: retention removes only the oldest segments); ` +
    `it held ${gap.events} events in ${gap.bytes} bytes when this segment was begun, and ` +
    `${gap.records} records are missing by sequence number${others}`;
}

const DEFECTS: Record<RecordDefect, string> = {
  magic: "no record magic where a record should start (overwritten or shifted bytes)",
  length: "payload length is 0, too large, or runs past the next intact record",
  truncated: "record cut short by the end of the file (torn write)",
  checksum: "CRC32C does not match the record's bytes (bit flip or overwrite)",
  header: "record header invalid although its CRC matches (writer bug)",
};

/** Checks the store in `dir`. */
export function verifyStore(dir: string): VerifyReport {
  const report: VerifyReport = { segments: 0, records: 0, events: 0, findings: [] };
  const read = { lastSeq: 0 };
  for (const { name: segment, newest, bytes, head, gap } of walkSegments(dir, read)) {
    report.segments++;
    const find = (offset: number, size: number, kind: string, message: string, damage = true) =>
      report.findings.push({ segment, offset, bytes: size, kind, message, damage });
    if (head.kind === "unfinished") {
      find(0, bytes.length, "unfinished", "segment being created (no full header yet)", false);
      continue;
    }
    if (head.kind === "damaged") {
      find(
        0,
        head.start,
        "file_header",
        "file header damaged (magic or CRC); its records are still read",
      );
    } else if (head.kind === "unsupported") {
      find(
        0,
        bytes.length,
        "version",
        `format version ${head.header.version}, not ${FORMAT_VERSION} or 2: the whole file is ignored`,
      );
      continue;
    } else if (head.kind === "copy") {
      find(
        0,
        bytes.length,
        "duplicate",
        `header says segment ${head.header.segment}: a copy, ignored`,
      );
      continue;
    } else if (gap !== null) {
      report.findings.push({
        segment,
        offset: 0,
        bytes: gap.bytes,
        kind: "gap",
        message: gapMessage(gap),
        damage: true,
        gap,
      });
    }
    // Findings in file order: regions and stale records as the scan meets them, payloads after.
    const found: Finding[] = [];
    const note = (offset: number, size: number, kind: string, message: string, damage = true) =>
      found.push({ segment, offset, bytes: size, kind, message, damage });
    const result = scanRecords(bytes, {
      start: head.start,
      afterSeq: read.lastSeq,
      countTail: !newest,
      listener: {
        region(start, end, defect) {
          if (end === bytes.length && newest) {
            note(
              start,
              end - start,
              "unfinished",
              "incomplete record at the end of the newest segment: a live writer may be appending it (or a crash cut it: the next writer keeps it and begins a new segment, and from then on it counts as a torn tail)",
              false,
            );
          } else {
            note(
              start,
              end - start,
              defect === "truncated" ? "torn_tail" : defect,
              DEFECTS[defect],
            );
          }
        },
        stale(record, lastSeq) {
          note(
            record.start,
            record.end - record.start,
            "stale",
            `record seq ${record.seq} is not above ${lastSeq}: a replayed copy, skipped`,
          );
        },
      },
    });
    read.lastSeq = result.lastSeq;
    for (const record of result.records) {
      const size = record.end - record.start;
      try {
        const events = unpackEvents(bytes.subarray(record.payloadStart, record.end));
        if (events.length !== record.eventCount) {
          note(
            record.start,
            size,
            "payload",
            `header says ${record.eventCount} events, payload holds ${events.length}`,
          );
        } else {
          report.records++;
          report.events += events.length;
        }
      } catch (error) {
        note(record.start, size, "payload", `payload does not decode: ${errorText(error)}`);
      }
    }
    report.findings.push(...found.sort((a, b) => a.offset - b.offset));
  }
  return report;
}

/** The findings that make a store damaged: damaged regions, and gaps where segments are missing. */
function problems(report: VerifyReport): { damaged: Finding[]; gaps: Finding[] } {
  return {
    damaged: report.findings.filter((f) => f.damage && f.kind !== "gap"),
    gaps: report.findings.filter((f) => f.kind === "gap"),
  };
}

function verifyText(report: VerifyReport, color: boolean): string {
  const { damaged, gaps } = problems(report);
  let text = "";
  for (const f of report.findings) {
    const tag = f.damage ? paint(color, "red", "DAMAGE") : paint(color, "gray", "note  ");
    text += `${tag} ${f.segment} offset ${f.offset} (${f.bytes} bytes) ${f.kind}: ${f.message}\n`;
  }
  const totals =
    `${report.segments} segments, ${report.records} intact records, ${report.events} events`;
  const found: string[] = [];
  if (damaged.length > 0) {
    found.push(
      `${damaged.length} damaged region(s), ${
        damaged.reduce((n, f) => n + f.bytes, 0)
      } bytes, which every reader skips`,
    );
  }
  if (gaps.length > 0) {
    const records = gaps.reduce((n, f) => n + f.gap!.records, 0);
    const events = gaps.reduce((n, f) => n + f.gap!.events, 0);
    found.push(
      `${gaps.length} gap(s) where segment files are missing (${records} records, ${events} events)`,
    );
  }
  return text +
    (found.length === 0
      ? `${paint(color, "green", "OK")} ${totals}\n`
      : `${paint(color, "red", "DAMAGED")} ${totals}; ${found.join("; ")}\n`);
}

/** Runs `verify`. */
export function verifyCommand(args: string[], io: CliIo): number {
  const { dir, report } = reportStore(
    "verify",
    args,
    io,
    verifyStore,
    (report) => verifyText(report, io.outIsTty),
  );
  const { damaged, gaps } = problems(report);
  if (damaged.length === 0 && gaps.length === 0) return EXIT.ok;
  const what = [
    ...(damaged.length > 0 ? [`${damaged.length} damaged region(s)`] : []),
    ...(gaps.length > 0 ? [`${gaps.length} gap(s) where segment files are missing`] : []),
  ].join(" and ");
  const advice = damaged.length > 0
    ? "keep a copy of the damaged files if you need to investigate"
    : "restore the missing segment files from a backup if you have one";
  io.err(`${dir} has ${what}: the other commands read everything else; ${advice}`);
  return EXIT.damaged;
}
