/**
 * ffmpeg writes its media playlists as EVENT (transcode/args/common.ts hlsOutputArgs): rewritten after every
 * segment and listing only complete ones, so a crashed run leaves a record of what is finished (issue 12). Once the
 * run has ended (#EXT-X-ENDLIST written), the list is the whole rendition and only the header says otherwise: this
 * turns it into the VOD playlist players and the Apple checks expect. The resume/stitch paths write their VOD
 * playlists themselves from the segment journal; this covers the plain single run.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

const EVENT = '#EXT-X-PLAYLIST-TYPE:EVENT';
const VOD = '#EXT-X-PLAYLIST-TYPE:VOD';

/** The playlist text with EVENT turned into VOD; unchanged unless the playlist is EVENT and ended. */
export function eventToVod(text: string): string {
  const lines = text.split('\n');
  const ended = lines.some((l) => l.trim() === '#EXT-X-ENDLIST');
  if (!ended) return text;
  return lines.map((l) => (l.trim() === EVENT ? VOD : l)).join('\n');
}

/**
 * Rewrites `<stagingDir>/<dir>/<playlistName>` of every dir from EVENT to VOD (temp file + rename, so a reader never
 * sees half a playlist). A playlist that is missing, not EVENT or has no #EXT-X-ENDLIST is left as it is: the
 * verification reports those.
 */
export async function finalizeEventPlaylists(
  stagingDir: string,
  dirs: readonly string[],
  playlistName: string,
): Promise<void> {
  for (const dir of dirs) {
    const file = path.join(stagingDir, dir, playlistName);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    const vod = eventToVod(text);
    if (vod === text) continue;
    const tmp = `${file}.vod.tmp`;
    await writeFile(tmp, vod);
    await rename(tmp, file);
  }
}
