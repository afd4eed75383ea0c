/**
 * Checks one staged media playlist (a video rung, an audio or a subtitle rendition): it parses, is complete
 * (#EXT-X-ENDLIST), lists segments that exist, are non-empty and stay inside its folder, and lasts as long as the
 * source. Returns what the master needs (measured bitrates) and what the commit copies (the referenced files).
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import HLS from 'hls-parser';
import { StorageError } from '../errors.js';
import { measureBitrates, type SegmentMeasure } from './master-playlist.js';

/** Accepted difference between the summed segment durations and the source duration. */
export function durationTolerance(sourceSec: number): number {
  return Math.max(1, sourceSec * 0.02);
}

export async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StorageError(
      `${what} ${file} ${code === 'ENOENT' ? 'was not written by ffmpeg' : `cannot be read (${code})`}`,
    );
  }
}

export function parsePlaylist(text: string, file: string): HLS.types.Playlist {
  try {
    return HLS.parse(text);
  } catch (err) {
    throw new StorageError(`playlist ${file} does not parse: ${(err as Error).message}`);
  }
}

/** Resolves a playlist URI inside its folder; refuses absolute URIs and anything that climbs out. */
export function resolveInside(uri: string, file: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('/') || uri.includes('\\')) {
    throw new StorageError(`playlist ${file} references ${uri}, which is not a relative path`);
  }
  let decoded: string;
  try {
    decoded = decodeURI(uri);
  } catch {
    throw new StorageError(`playlist ${file} references ${uri}, which is not a valid URI`);
  }
  const rel = path.posix.normalize(decoded);
  if (rel.startsWith('../') || rel === '..')
    throw new StorageError(`playlist ${file} references ${uri} outside its folder`);
  return rel;
}

async function nonEmptySize(file: string, playlist: string): Promise<number> {
  let size = 0;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new StorageError(`segment ${file} listed in ${playlist} is missing`);
  }
  if (size === 0) throw new StorageError(`segment ${file} listed in ${playlist} is empty`);
  return size;
}

export interface CheckedMediaPlaylist {
  /** Absolute folder of the playlist. */
  dir: string;
  playlistFile: string;
  /** The playlist and every file it references, relative to `dir`, forward slashes. */
  files: string[];
  /** Segment (+ init) bytes. */
  mediaBytes: number;
  durationSec: number;
  segmentDurations: number[];
  targetDuration: number;
  version: number;
  peak: number;
  average: number;
  /** The first media file: the init section (fMP4) or the first segment. */
  firstMedia: string;
  /** The first segment (never the init section). */
  firstSegment: string;
  initFile?: string;
  /** Tags the Apple-rules check reads (apple-rule-facts.ts MediaPlaylistFacts). */
  tags: {
    hasEndlist: boolean;
    playlistType?: string;
    hasMap: boolean;
    hasByteRange: boolean;
    iFramesOnly: boolean;
    independentSegments: boolean;
  };
}

/**
 * @param expectedSec the source's duration; 0 skips the duration check (a subtitle track ends with its last cue,
 *   but its playlist mirrors the video's, so it is checked too when given)
 */
export async function checkMediaPlaylist(
  dir: string,
  playlistName: string,
  expectedSec: number,
  segmentTime: number,
): Promise<CheckedMediaPlaylist> {
  const file = path.join(dir, playlistName);
  const pl = parsePlaylist(await readText(file, 'media playlist'), file);
  if (pl.isMasterPlaylist)
    throw new StorageError(`playlist ${file} should be a media playlist but is a master playlist`);
  const media = pl as HLS.types.MediaPlaylist;
  if (!media.endlist) throw new StorageError(`media playlist ${file} is incomplete (no #EXT-X-ENDLIST)`);
  if (media.segments.length === 0) throw new StorageError(`media playlist ${file} lists no segments`);

  const files = new Set<string>([playlistName]);
  const measures: SegmentMeasure[] = [];
  let initBytes = 0;
  let initFile: string | undefined;
  for (const seg of media.segments) {
    if (seg.map?.uri) {
      const rel = resolveInside(seg.map.uri, file);
      if (!files.has(rel)) {
        files.add(rel);
        initBytes += await nonEmptySize(path.join(dir, rel), file);
        initFile ??= path.join(dir, rel);
      }
    }
    const rel = resolveInside(seg.uri, file);
    files.add(rel);
    measures.push({ bytes: await nonEmptySize(path.join(dir, rel), file), durationSec: seg.duration });
  }
  const durationSec = measures.reduce((s, m) => s + m.durationSec, 0);
  if (expectedSec > 0 && Math.abs(durationSec - expectedSec) > durationTolerance(expectedSec)) {
    throw new StorageError(
      `media playlist ${file} lasts ${durationSec.toFixed(2)} s but the source lasts ${expectedSec.toFixed(2)} s`,
    );
  }
  const targetDuration = media.targetDuration || segmentTime;
  const { peak, average } = measureBitrates(measures, targetDuration, initBytes);
  const firstSegment = path.join(dir, resolveInside(media.segments[0]!.uri, file));
  return {
    dir,
    playlistFile: file,
    files: [...files],
    mediaBytes: measures.reduce((s, m) => s + m.bytes, 0) + initBytes,
    durationSec,
    segmentDurations: media.segments.map((s) => s.duration),
    targetDuration,
    version: media.version ?? 1,
    peak,
    average,
    firstMedia: initFile ?? firstSegment,
    firstSegment,
    ...(initFile ? { initFile } : {}),
    tags: {
      hasEndlist: media.endlist,
      ...(media.playlistType ? { playlistType: media.playlistType } : {}),
      hasMap: media.segments.some((s) => s.map !== undefined && s.map !== null),
      hasByteRange: media.segments.some((s) => s.byterange !== undefined && s.byterange !== null),
      iFramesOnly: media.isIFrame === true,
      independentSegments: media.independentSegments === true,
    },
  };
}
