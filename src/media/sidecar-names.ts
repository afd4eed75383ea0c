/**
 * Subtitle files beside a source, named the way Jellyfin and Plex users name them: the source's name without its
 * extension, then dot-separated tokens in any order, then a text subtitle extension:
 *
 *   Movie (2001).srt              no language
 *   Movie (2001).en.srt           language from a 639-1 code, a 639-2 code ("eng"), a BCP-47 tag ("pt-BR")
 *   Movie (2001).English.srt      or a language name (English, or the language's own: "Deutsch")
 *   Movie (2001).fr.forced.srt    flags: forced/foreign, sdh/cc/hi (hearing impaired), default
 *   Movie (2001).en.Signs.srt     any other token is kept, in order, as the title ("Signs")
 *
 * Decisions: only "." separates tokens (Jellyfin also tries "_" and " - "; those names stay unmatched rather than
 * guess). The first token that is a language sets it; a later one goes to the title. "hi" is the hearing-impaired
 * flag when another token gives the language ("Movie.en.hi.srt"), else it is Hindi ("Movie.hi.srt"). A bare
 * three-letter code counts only when it maps to a two-letter one ("eng", "ger") or is one of a few well-known ones
 * ("fil", "yue"), so words such as "new" (Newari) or "dts" stay in the title. Image subtitles (.sub/.idx VobSub,
 * .sup PGS) are not sidecars here: only text formats become WebVTT. Pure: the caller lists the folder and checks
 * that the file stays inside it.
 */
import { ISO_639_1, toBcp47 } from './languages.js';

export type SidecarFormat = 'srt' | 'webvtt' | 'ass';

export interface SidecarInfo {
  format: SidecarFormat;
  /** BCP-47; absent when the name gives no language. */
  language?: string;
  forced: boolean;
  hearingImpaired: boolean;
  isDefault: boolean;
  /** The tokens that are neither a language nor a flag, joined with "." as they were written. */
  title?: string;
}

export interface SidecarMatchOptions {
  /** Compare the source's name case-insensitively (for a NAS that folds case). The extension always is. */
  caseInsensitive?: boolean;
}

const FORMATS: Readonly<Record<string, SidecarFormat>> = {
  srt: 'srt',
  vtt: 'webvtt',
  webvtt: 'webvtt',
  ass: 'ass',
  ssa: 'ass',
};

const FORCED_FLAGS = new Set(['forced', 'foreign']);
const HEARING_IMPAIRED_FLAGS = new Set(['sdh', 'cc']);
const DEFAULT_FLAGS = new Set(['default']);
/** Three-letter codes without a two-letter one that are common enough in file names to trust. */
const TRUSTED_THREE_LETTER = new Set(['fil', 'yue']);

/** The token's BCP-47 language, when the token is one (see the decisions above). */
function tokenLanguage(token: string): string | undefined {
  const tag = toBcp47(token);
  if (tag === undefined) return undefined;
  const primary = tag.split('-')[0]!;
  if (ISO_639_1.has(primary)) return tag;
  const bareCode = /^[a-z]{2,3}$/i.test(token);
  return !bareCode || TRUSTED_THREE_LETTER.has(primary) ? tag : undefined;
}

/** The part after the last "/" or "\": callers may pass the source's path. */
function baseName(fileName: string): string {
  return fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
}

/** "Movie (2001).mkv" → "Movie (2001)"; a name without an extension (or a dot file) is its own stem. */
function stemOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

/**
 * What a file beside the source says about itself as a subtitle of that source, or null when it is not one: another
 * film's file ("Movie (2001) 2.en.srt" or "Movie.en.srt" beside "Movie (2001).mkv"), the source itself, a non-text
 * or non-subtitle extension, a name holding a path separator or a control character. Both names are compared in
 * Unicode NFC, so a sidecar copied from a Mac (NFD) still matches.
 */
export function parseSidecarName(
  sourceFileName: string,
  candidate: string,
  options: SidecarMatchOptions = {},
): SidecarInfo | null {
  // eslint-disable-next-line no-control-regex -- a control character in a file name is never a sidecar of ours
  if (/[/\\\u0000-\u001f\u007f]/.test(candidate)) return null;
  const source = baseName(sourceFileName).normalize('NFC');
  const name = candidate.normalize('NFC');
  if (name === source) return null;

  const dot = name.lastIndexOf('.');
  if (dot <= 0) return null;
  const format = FORMATS[name.slice(dot + 1).toLowerCase()];
  if (format === undefined) return null;

  const stem = stemOf(source);
  const candidateStem = name.slice(0, dot);
  const fold = (s: string) => (options.caseInsensitive ? s.toLowerCase() : s);
  if (fold(candidateStem.slice(0, stem.length)) !== fold(stem)) return null;
  const rest = candidateStem.slice(stem.length);
  if (rest !== '' && !rest.startsWith('.')) return null;

  const info: SidecarInfo = { format, forced: false, hearingImpaired: false, isDefault: false };
  const titleTokens: string[] = [];
  let hiTokens = 0;
  for (const raw of rest.split('.')) {
    const token = raw.trim();
    const lower = token.toLowerCase();
    if (token === '') continue;
    if (FORCED_FLAGS.has(lower)) info.forced = true;
    else if (HEARING_IMPAIRED_FLAGS.has(lower)) info.hearingImpaired = true;
    else if (DEFAULT_FLAGS.has(lower)) info.isDefault = true;
    else if (lower === 'hi') hiTokens++;
    else {
      const language = info.language === undefined ? tokenLanguage(token) : undefined;
      if (language !== undefined) info.language = language;
      else titleTokens.push(token);
    }
  }
  // "hi": Hindi when nothing else named the language, the hearing-impaired flag otherwise (or when it comes twice).
  if (hiTokens > 0 && info.language === undefined) {
    info.language = 'hi';
    hiTokens--;
  }
  if (hiTokens > 0) info.hearingImpaired = true;
  if (titleTokens.length > 0) info.title = titleTokens.join('.');
  return info;
}
