/**
 * ffmpeg's clock notation "HH:MM:SS(.fraction)": the out_time of its progress output and the DURATION tag that
 * Matroska sources carry. One parser so both read the same forms.
 */
const CLOCK_RE = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/;

/** "01:02:03.5" -> 3723.5; negative or malformed -> undefined. */
export function parseClock(value: string | undefined): number | undefined {
  const m = value ? CLOCK_RE.exec(value.trim()) : null;
  if (!m) return undefined;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}
