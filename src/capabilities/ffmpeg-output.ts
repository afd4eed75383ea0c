/**
 * Parsers of what ffmpeg prints: `-version`, `-encoders`/`-decoders`, `-hwaccels`, and the one stderr line worth
 * showing a person when a test encode fails. Pure.
 */

/** "ffmpeg version 5.1.9-0+deb12u1 Copyright ..." -> "5.1.9-0+deb12u1". */
export function parseVersion(stdout: string, program: 'ffmpeg' | 'ffprobe'): string | undefined {
  const m = new RegExp(`^${program} version (\\S+)`, 'm').exec(stdout);
  return m?.[1];
}

/** Names from `-encoders` or `-decoders`: the rows after the "------" separator, e.g. " V....D libx264  ...". */
export function parseCodecList(stdout: string): Set<string> {
  const names = new Set<string>();
  let inTable = false;
  for (const line of stdout.split(/\r?\n/)) {
    if (!inTable) {
      if (/^\s*-{4,}\s*$/.test(line)) inTable = true;
      continue;
    }
    const m = /^\s*[VAS][A-Z.]{5}\s+(\S+)/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** Names from `-hwaccels`: one per line after "Hardware acceleration methods:". */
export function parseHwaccels(stdout: string): Set<string> {
  const names = new Set<string>();
  let inList = false;
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    if (!inList) {
      if (/^Hardware acceleration methods:/i.test(line)) inList = true;
      continue;
    }
    if (line) names.add(line);
  }
  return names;
}

const NOISE = [
  /^ffmpeg version /,
  /^\s*(built with|configuration:|lib\w+\s+\d)/,
  /^Input #\d/,
  /^Output #\d/,
  /^\s*(Duration|Stream|Metadata|encoder|major_brand|Side data)\b/,
  /^Stream mapping:/,
  /^Press \[q\]/,
  /^\s*$/,
  /^frame=\s*\d/,
  /^size=/,
  /^video:\d/,
  /^x265 \[info\]/,
  /^Svt\[info\]/,
];

// "No VA display found for device ..." says more than the "Device creation failed: -22." that follows it.
const STRONG =
  /error|cannot|can't|could not|not found|\bno\b[^.]*\bfound\b|failed|unable|invalid|no such|not supported|unsupported|denied/i;

/** Strips "[h264_nvenc @ 0x55d...] " so the reason reads the same on every run. */
function stripContext(line: string): string {
  return line.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').trim();
}

/**
 * The first meaningful stderr line: banner, stream listings and progress are skipped; a line naming an error
 * ("Cannot load libcuda.so.1", "Device creation failed") is preferred over the first line left.
 */
export function pickReason(stderr: string): string | undefined {
  const lines = stderr
    .split(/\r?\n/)
    .filter((l) => !NOISE.some((re) => re.test(l)))
    .map(stripContext)
    .filter((l) => l.length > 0);
  const strong = lines.find((l) => STRONG.test(l));
  const chosen = strong ?? lines[0];
  return chosen && chosen.length > 300 ? `${chosen.slice(0, 297)}...` : chosen;
}

/** "15s", "1.5s" or "800ms": how long a timeout was, for reasons. */
export function formatDuration(ms: number): string {
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(1))}s`;
  return `${Math.round(ms)}ms`;
}
