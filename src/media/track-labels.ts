/**
 * The labels a player shows for audio and subtitle renditions (#EXT-X-MEDIA LANGUAGE, NAME, DEFAULT, AUTOSELECT,
 * FORCED, CHARACTERISTICS), made from the source streams' tags and dispositions. Pure; the master writer renders them.
 *
 * Invariants of every list returned: one label per track, in the tracks' order; NAMEs unique (case-insensitively),
 * non-empty and safe inside an HLS quoted-string; a DEFAULT=YES label is also AUTOSELECT=YES (RFC 8216 4.4.6.1);
 * at most one DEFAULT=YES.
 */
import { languageName, toBcp47 } from './languages.js';

/**
 * A stream's dispositions. src/media imports nothing else from src/, so this copies the shape of StreamDisposition
 * (src/transcode/types.ts); structural typing keeps the two interchangeable. Keep them identical.
 */
export interface Disposition {
  default: boolean;
  forced: boolean;
  /** Director's commentary and the like ("comment"). */
  comment: boolean;
  hearingImpaired: boolean;
  visualImpaired: boolean;
  /** Audio description of the picture for the blind ("descriptions"). */
  descriptions: boolean;
}

/** Same shape as TrackLabel in src/transcode/types.ts (copied for the same reason as Disposition). */
export interface TrackLabel {
  /** BCP-47 ("en", "fr", "pt-BR"); absent when the stream's language is unknown ("und"). */
  language?: string;
  name: string;
  isDefault: boolean;
  autoselect: boolean;
  /** Subtitles only: shown even when subtitles are off. */
  forced: boolean;
  /** Apple's CHARACTERISTICS UTIs, one per entry. */
  characteristics: string[];
}

export interface AudioTrackTags {
  /** The raw language tag ("fre", "eng", "pt-BR"). */
  language?: string;
  title?: string;
  channels: number;
  disposition: Disposition;
}

export interface SubtitleTrackTags {
  language?: string;
  title?: string;
  disposition: Disposition;
  /** ffprobe's codec name ("subrip", "ass"); a title that only repeats it is no title. */
  codec?: string;
}

export const DESCRIBES_VIDEO = 'public.accessibility.describes-video';
export const TRANSCRIBES_DIALOG = 'public.accessibility.transcribes-spoken-dialog';
export const DESCRIBES_MUSIC = 'public.accessibility.describes-music-and-sound';

/** Longest NAME core kept from a title; suffixes such as " (Commentary)" may follow it. */
const MAX_NAME = 100;

/**
 * Text made safe for an HLS quoted-string: no double quote, CR, LF or other control or line-separator character
 * (each becomes a space), whitespace collapsed, trimmed, at most `max` characters (cut between code points).
 */
export function hlsQuotedStringSafe(s: string, max = MAX_NAME): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const cleaned = s.replace(/["\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/\s+/g, ' ');
  return Array.from(cleaned.trim()).slice(0, max).join('').trim();
}

/**
 * Words that describe the encoding, not the content: a title made only of these ("Stereo", "Surround 5.1",
 * "DTS-HD MA 7.1", "Track 1", "AC3 640 kbps", "SRT") tells a listener nothing a player does not already show.
 */
const TECHNICAL_WORDS = new Set(
  (
    'track audio sound stream sub subs subtitle subtitles caption captions text ' +
    'mono stereo surround channel channels ch dolby digital plus dd dd+ ddp atmos dts hd ma hra es x ' +
    'truehd true aac he lc e ac ac3 ac-3 eac3 e-ac3 e-ac-3 ec3 flac pcm lpcm opus mp2 mp3 vorbis alac ' +
    'srt subrip ass ssa vtt webvtt mov_text tx3g utf8 utf-8 kbps kb/s kbit/s'
  ).split(' '),
);

/** Whether a title says something about the content (a language, "Director's commentary", "Signs & Songs"). */
function isMeaningfulTitle(title: string, codec?: string): boolean {
  if (codec !== undefined && title.toLowerCase() === codec.toLowerCase()) return false;
  const words = title
    .toLowerCase()
    .split(/[\s,;:()[\]{}/|_]+|(?<=\D)-|-(?=\D)/)
    .filter((w) => w !== '');
  if (words.length === 0) return false;
  const technical = (w: string) =>
    TECHNICAL_WORDS.has(w) || w === codec?.toLowerCase() || /^#?\d+([.,]\d+)*(ch|k|kbps|khz|bit)?$/.test(w);
  return !words.every(technical);
}

/** "Mono", "Stereo", "5.1", "7.1", else "N ch": what distinguishes two tracks that differ only in layout. */
function channelName(channels: number): string {
  return { 1: 'Mono', 2: 'Stereo', 6: '5.1', 8: '7.1' }[channels] ?? `${channels} ch`;
}

interface NameParts {
  /** The title, or the language's name, or "Audio N". */
  core: string;
  /** Tried before a number when two names collide (audio: the channel layout). */
  distinguisher?: string;
  /** " (Commentary)", " (SDH)", ... */
  suffixes: string[];
}

/**
 * Unique names: where cores and suffixes collide, the distinguisher is added when it tells the colliding tracks
 * apart; any name still taken gets " 2", " 3", ... (the first keeps the plain name). Compared case-insensitively.
 */
function uniqueNames(parts: NameParts[]): string[] {
  const render = (p: NameParts, withDistinguisher: boolean) =>
    [p.core, withDistinguisher ? p.distinguisher : undefined, ...p.suffixes].filter(Boolean).join(' ');
  const plain = parts.map((p) => render(p, false));
  const named = parts.map((p, i) => {
    const rivals = parts.filter((_, j) => plain[j]!.toLowerCase() === plain[i]!.toLowerCase());
    const tellsApart = new Set(rivals.map((r) => r.distinguisher)).size > 1;
    return rivals.length > 1 && tellsApart ? render(p, true) : plain[i]!;
  });
  const taken = new Set<string>();
  return named.map((name) => {
    let candidate = name;
    for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${name} ${n}`;
    taken.add(candidate.toLowerCase());
    return candidate;
  });
}

/**
 * An audio title without a trailing channel layout ("English 5.1" -> "English", "Français (Stereo)" ->
 * "Français"): the same NAME serves the stereo group and the surround group, so it must not promise a layout.
 */
function withoutLayout(title: string | undefined): string | undefined {
  return title
    ?.replace(/[\s([-]*(?:mono|stereo|[1-7]\.[01](?:\s*ch)?|surround(?:\s+[1-7]\.[01])?)[)\]]*\s*$/i, '')
    .trim();
}

/** The title when it says something, else the language's name, else a numbered fallback. */
function coreName(title: string | undefined, language: string | undefined, fallback: string, codec?: string): string {
  const safe = hlsQuotedStringSafe(title ?? '');
  if (safe !== '' && isMeaningfulTitle(safe, codec)) return safe;
  return language !== undefined ? hlsQuotedStringSafe(languageName(language)) : fallback;
}

const isDescription = (d: Disposition) => d.descriptions || d.visualImpaired;
const isSecondaryAudio = (d: Disposition) => d.comment || isDescription(d);

/**
 * The index of the DEFAULT=YES audio track: the first the source marks default that is neither commentary nor
 * audio description, else the first that is neither, else the first.
 */
function defaultAudioIndex(tracks: readonly AudioTrackTags[]): number {
  const main = (t: AudioTrackTags) => !isSecondaryAudio(t.disposition);
  const marked = tracks.findIndex((t) => t.disposition.default && main(t));
  if (marked >= 0) return marked;
  return Math.max(0, tracks.findIndex(main));
}

/**
 * Labels for the audio renditions. NAME: the title (unless it only names the encoding: "Stereo", "AC3 5.1"), else
 * the language's own name ("Français"), else "Audio N"; plus " (Commentary)" / " (Audio Description)" when the
 * disposition says so and the title does not. The channel layout (" 5.1", " Stereo") is added only to tell apart
 * two tracks that would otherwise share a name: the same NAME is used in the stereo AAC group and the surround
 * group, where one source track plays in two layouts, and players keep the listener's choice across groups by NAME.
 * Commentary is not auto-selected unless it is the default. Audio description is (Apple's authoring spec 2.13):
 * players pick a describes-video rendition only for viewers who turned audio descriptions on.
 * Of two tracks a player cannot tell apart (same LANGUAGE, FORCED and CHARACTERISTICS: two English dubs), only
 * the first is auto-selectable (RFC 8216 4.3.4.1.1), the default first of all.
 */
export function labelAudioTracks(tracks: readonly AudioTrackTags[]): TrackLabel[] {
  const defaultIndex = defaultAudioIndex(tracks);
  const languages = tracks.map((t) => toBcp47(t.language));
  const parts = tracks.map((t, i): NameParts => {
    const core = coreName(withoutLayout(t.title), languages[i], `Audio ${i + 1}`);
    const suffixes: string[] = [];
    if (t.disposition.comment && !/comment|kommentar/i.test(core)) suffixes.push('(Commentary)');
    if (isDescription(t.disposition) && !/descri|\bAD\b|narrat/i.test(core)) suffixes.push('(Audio Description)');
    return { core, distinguisher: channelName(t.channels), suffixes };
  });
  const names = uniqueNames(parts);
  const labels = tracks.map((t, i) => {
    const language = languages[i];
    const isDefault = i === defaultIndex;
    return {
      ...(language !== undefined ? { language } : {}),
      name: names[i]!,
      isDefault,
      autoselect: isDefault || !t.disposition.comment,
      forced: false,
      characteristics: isDescription(t.disposition) ? [DESCRIBES_VIDEO] : [],
    };
  });
  return distinctAutoselect(labels, defaultIndex);
}

/**
 * AUTOSELECT=YES only on renditions that differ in LANGUAGE, FORCED or CHARACTERISTICS (RFC 8216 4.3.4.1.1): the
 * first of each kind keeps it, the default one first; FORCED=YES always keeps it (Apple 5.11 requires it).
 */
function distinctAutoselect(labels: TrackLabel[], first: number): TrackLabel[] {
  const seen = new Set<string>();
  const keyOf = (l: TrackLabel) => `${l.language ?? ''}|${l.forced}|${l.characteristics.join(',')}`;
  const all = labels.map((_, i) => i);
  const order = first >= 0 && first < labels.length ? [first, ...all.filter((i) => i !== first)] : all;
  for (const i of order) {
    const l = labels[i]!;
    if (!l.autoselect) continue;
    const key = keyOf(l);
    if (seen.has(key) && !l.forced) labels[i] = { ...l, autoselect: false };
    seen.add(key);
  }
  return labels;
}

/**
 * Labels for the subtitle renditions. NAME: the title (unless it only names the format: "SRT", "Subtitles 2"), else
 * the language's own name, else "Subtitles N"; plus " (Forced)" and " (SDH)" when the disposition says so and the
 * title does not. DEFAULT=YES only on the first track the source marks default (none is fine: subtitles off).
 * FORCED from the disposition; AUTOSELECT=YES on all (Apple requires it with FORCED=YES, and it lets a player pick
 * the subtitles of the viewer's language). Hearing-impaired tracks carry both of Apple's SDH characteristics.
 */
export function labelSubtitleTracks(tracks: readonly SubtitleTrackTags[]): TrackLabel[] {
  const defaultIndex = tracks.findIndex((t) => t.disposition.default);
  const languages = tracks.map((t) => toBcp47(t.language));
  const parts = tracks.map((t, i): NameParts => {
    const core = coreName(t.title, languages[i], `Subtitles ${i + 1}`, t.codec);
    const suffixes: string[] = [];
    if (t.disposition.forced && !/forced|forcé|foreign/i.test(core)) suffixes.push('(Forced)');
    if (t.disposition.hearingImpaired && !/\bSDH\b|\bCC\b|\bHI\b|hearing|deaf/i.test(core)) suffixes.push('(SDH)');
    return { core, suffixes };
  });
  const names = uniqueNames(parts);
  const labels = tracks.map((t, i) => {
    const language = languages[i];
    return {
      ...(language !== undefined ? { language } : {}),
      name: names[i]!,
      isDefault: i === defaultIndex,
      autoselect: true,
      forced: t.disposition.forced,
      characteristics: t.disposition.hearingImpaired ? [TRANSCRIBES_DIALOG, DESCRIBES_MUSIC] : [],
    };
  });
  return distinctAutoselect(labels, defaultIndex);
}
