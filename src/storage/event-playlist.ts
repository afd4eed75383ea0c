/**
 * Reading the media playlist ffmpeg's hls muxer keeps rewriting while it runs (`-hls_playlist_type event`): which
 * segments it lists, under which index, with the EXTINF it printed. Only what the journal needs; the text is
 * ffmpeg's own, never a user's.
 */

export interface ListedSegment {
  /** #EXT-X-MEDIA-SEQUENCE (the run's -start_number) plus the position in the list. */
  index: number;
  uri: string;
  /** The EXTINF duration exactly as printed ("4.000000"): the joined playlist repeats it byte for byte. */
  duration: string;
  /** The #EXT-X-MAP URI in force, on the first segment after that tag (fMP4: the run's init segment). */
  map?: string;
}

const MEDIA_SEQUENCE = /^#EXT-X-MEDIA-SEQUENCE:(\d+)\s*$/;
const EXTINF = /^#EXTINF:([0-9.]+)\s*(?:,.*)?$/;
const MAP_URI = /^#EXT-X-MAP:.*\bURI="([^"]*)"/;

export function parseEventPlaylist(text: string): ListedSegment[] {
  // Only complete lines: a playlist caught mid-write (a run without temp_file) may end in half a name.
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  const out: ListedSegment[] = [];
  let sequence = 0;
  let duration: string | undefined;
  let map: string | undefined;
  for (const raw of complete.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    let m: RegExpExecArray | null;
    if ((m = MEDIA_SEQUENCE.exec(line))) sequence = Number(m[1]);
    else if ((m = EXTINF.exec(line))) duration = m[1];
    else if ((m = MAP_URI.exec(line))) map = m[1];
    else if (!line.startsWith('#') && duration !== undefined) {
      out.push({ index: sequence + out.length, uri: line, duration, ...(map !== undefined ? { map } : {}) });
      duration = undefined;
      map = undefined;
    }
  }
  return out;
}
