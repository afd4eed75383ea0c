/**
 * Reads a whole WebVTT file (as ffmpeg's webvtt encoder writes it from SubRip, ASS/SSA, mov_text or WebVTT) into
 * clean cues, and writes one cue back. Never throws: a block that is not a cue is skipped and counted in a
 * warning, so a malformed track costs that track's bad lines, never the job.
 *
 * Invariants of every cue returned: 0 <= startMs < endMs (whole milliseconds, the precision WebVTT has); settings
 * holds only WebVTT cue settings; every text line is non-empty after trimming ASCII whitespace (a blank line
 * would end the cue), holds no "-->" (it would start a new cue) and no raw '<' or '&' outside the markup WebVTT
 * knows (<b>, <i>, <u>, <c>, <v>, <lang>, <ruby>, <rt>, timestamps, character references).
 */

export interface VttCue {
  startMs: number;
  endMs: number;
  /** Cue settings kept from the timing line ("line:10% align:start"), "" when none. */
  settings: string;
  /** Text lines, cleaned; never empty. */
  lines: string[];
}

export interface ParsedVtt {
  /** Valid cues in file order. */
  cues: VttCue[];
  warnings: string[];
}

/** [hh:]mm:ss.ttt (hours may have any number of digits; ',' accepted for SubRip-style input). */
const TIMESTAMP = /^(?:(\d+):)?([0-5]\d):([0-5]\d)[.,](\d{3})$/;
const TIMING_LINE = /^(\S+)[ \t]+-->[ \t]+(\S+)(.*)$/;
const SETTING =
  /^(?:vertical:(?:rl|lr)|line:-?\d+(?:\.\d+)?%?(?:,(?:start|center|end))?|position:\d+(?:\.\d+)?%(?:,(?:line-left|center|line-right))?|size:\d+(?:\.\d+)?%|align:(?:start|center|end|left|right)|region:\S+)$/;

/** Milliseconds of a WebVTT timestamp, or undefined when it is not one. */
export function parseVttTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text.trim());
  if (!m) return undefined;
  return ((Number(m[1] ?? 0) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]);
}

/** hh:mm:ss.ttt, hours at least two digits (WebVTT allows more for long media). */
export function formatVttTimestamp(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  const h = Math.floor(t / 3_600_000);
  const m = Math.floor(t / 60_000) % 60;
  const s = Math.floor(t / 1000) % 60;
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}.${pad(t % 1000, 3)}`;
}

/** The cue block as it goes into a segment file (no trailing blank line). */
export function formatCue(cue: VttCue): string {
  const timing = `${formatVttTimestamp(cue.startMs)} --> ${formatVttTimestamp(cue.endMs)}`;
  return [cue.settings ? `${timing} ${cue.settings}` : timing, ...cue.lines].join('\n');
}

/** Tags a WebVTT renderer knows (class and annotation allowed); everything else that looks like a tag is dropped. */
const KNOWN_TAG = /^<\/?(?:b|i|u|c|v|lang|ruby|rt)(?:[.\s][^<>]*)?>$|^<(?:\d+:)?[0-5]\d:[0-5]\d\.\d{3}>$/;
const ANY_TAG = /<\/?[A-Za-z][^<>]*>|<(?:\d+:)?\d{2}:\d{2}\.\d{3}>/y;
const ENTITY = /^&(?:amp|lt|gt|lrm|rlm|nbsp|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});/;
/** An ASS vector drawing ({\p1}m 0 0 l 100 0 ...) whose {\p1} the encoder dropped: shapes, not words. */
const ASS_DRAWING = /^m(?:\s+-?\d+(?:\.\d+)?){2}(?:\s+(?:[mnlbspc]|-?\d+(?:\.\d+)?))*$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Escapes '&' and '<' that are not WebVTT markup, drops unknown tags (<font>, <span>) and breaks up "-->". */
function escapeLine(line: string): string {
  let out = '';
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === '<') {
      ANY_TAG.lastIndex = i;
      const m = ANY_TAG.exec(line);
      if (m) {
        if (KNOWN_TAG.test(m[0])) out += m[0];
        i += m[0].length;
        continue;
      }
      out += '&lt;';
    } else if (ch === '&') {
      const ent = ENTITY.exec(line.slice(i, i + 12));
      out += ent ? ent[0] : '&amp;';
      i += ent ? ent[0].length : 1;
      continue;
    } else if (ch === '>' && out.endsWith('--')) {
      out += '&gt;';
    } else {
      out += ch;
    }
    i++;
  }
  return out;
}

/**
 * Cue text as players should show it. What ffmpeg's webvtt encoder leaves from ASS/SSA and SubRip input: it drops
 * override blocks it knows ({\an8}, {\pos}, colours, fonts) and turns {\b1}/{\i1}/{\u1} into <b>/<i>/<u>, but
 * keeps \h (hard space), the path of a vector drawing, and raw '<', '&' and "-->". Input WebVTT can carry <font>.
 */
export function cleanCueLines(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (const rawLine of raw) {
    const unescaped = rawLine
      .replace(CONTROL, '')
      .replace(/\{\\[^}]*\}/g, '')
      .replace(/\\h/g, '\u00a0')
      .split(/\\[Nn]/);
    for (const piece of unescaped) {
      const line = escapeLine(piece).replace(/[ \t]+$/, '');
      if (line.trim() === '' || ASS_DRAWING.test(line.trim())) continue;
      out.push(line);
    }
  }
  return out;
}

function parseTiming(line: string): { startMs: number; endMs: number; settings: string } | undefined {
  const m = TIMING_LINE.exec(line);
  if (!m) return undefined;
  const startMs = parseVttTimestamp(m[1]!);
  const endMs = parseVttTimestamp(m[2]!);
  if (startMs === undefined || endMs === undefined) return undefined;
  const settings = m[3]!.split(/[ \t]+/).filter((s) => SETTING.test(s));
  return { startMs, endMs, settings: settings.join(' ') };
}

/** Counts problems by kind and keeps the first example, so a broken 2 000-cue file makes a few lines of warning. */
class Problems {
  private readonly seen = new Map<string, { count: number; example: string }>();
  add(kind: string, example: string): void {
    const p = this.seen.get(kind);
    if (p) p.count++;
    else this.seen.set(kind, { count: 1, example: example.slice(0, 80) });
  }
  warnings(): string[] {
    return [...this.seen].map(([kind, p]) => `${p.count} ${kind} skipped (first: ${JSON.stringify(p.example)})`);
  }
}

/** Parses a whole WebVTT file. BOM, CRLF/CR line ends, NOTE/STYLE/REGION blocks and cue identifiers are dropped. */
export function parseWebVtt(text: string): ParsedVtt {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const problems = new Problems();
  const warnings: string[] = [];
  if (!/^WEBVTT(?:[ \t]|$)/.test(lines[0] ?? '')) warnings.push('the file does not start with "WEBVTT"');
  const cues: VttCue[] = [];
  let i = /^WEBVTT/.test(lines[0] ?? '') ? 1 : 0;
  // The header block (WEBVTT line and header lines such as X-TIMESTAMP-MAP) ends at the first blank line, or at
  // a timing line when the blank line is missing.
  if (i === 1) while (i < lines.length && lines[i]!.trim() !== '' && !lines[i]!.includes('-->')) i++;

  while (i < lines.length) {
    if (lines[i]!.trim() === '') {
      i++;
      continue;
    }
    const first = lines[i]!;
    if (/^(?:NOTE|STYLE|REGION)(?:[ \t]|$)/.test(first)) {
      while (i < lines.length && lines[i]!.trim() !== '') i++;
      continue;
    }
    // Optional identifier line, then the timing line.
    let timingAt = first.includes('-->') ? i : i + 1;
    const timing = timingAt < lines.length ? parseTiming(lines[timingAt]!) : undefined;
    if (!timing) {
      problems.add('blocks that are not cues', first);
      while (i < lines.length && lines[i]!.trim() !== '') i++;
      continue;
    }
    const text: string[] = [];
    i = ++timingAt;
    // Cue text runs to the next blank line, or to a line that is itself a valid timing line (a missing blank line).
    while (i < lines.length && lines[i]!.trim() !== '' && !parseTiming(lines[i]!)) text.push(lines[i++]!);
    const cleaned = cleanCueLines(text);
    if (timing.endMs <= timing.startMs) problems.add('cues that end before they start', lines[timingAt - 1]!);
    else if (cleaned.length === 0) problems.add('cues without text', lines[timingAt - 1]!);
    else cues.push({ ...timing, lines: cleaned });
  }
  return { cues, warnings: [...warnings, ...problems.warnings()] };
}
