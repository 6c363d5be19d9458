/** Reads back the figures the pages write with apps/web/src/lib/format.ts. */

const BYTE_UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Bytes from formatBytes' text ("201 MiB", "2.9 KiB", "512 B"); NaN for anything else ("—"). */
export function bytesOf(text: string): number {
  const match = /^([\d.]+) (B|KiB|MiB|GiB)\b/.exec(text.trim());
  return match ? Number(match[1]) * (BYTE_UNITS[match[2]!] ?? NaN) : NaN;
}

/** Milliseconds from formatDuration's text ("850 ms", "1.5 s", "2 min 5 s"); NaN for "—". */
export function msOf(text: string): number {
  const match = /^(?:(\d+) min ?)?(?:([\d.]+) (s|ms))?$/.exec(text.trim());
  if (!match || (match[1] === undefined && match[2] === undefined)) return NaN;
  const minutes = Number(match[1] ?? 0) * 60_000;
  const rest = match[2] === undefined ? 0 : Number(match[2]) * (match[3] === 's' ? 1000 : 1);
  return minutes + rest;
}
