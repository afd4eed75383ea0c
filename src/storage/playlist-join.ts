/**
 * The final VOD media playlists, written by the worker from the segment journal after any run (fresh, resumed,
 * or the parts of a split): ffmpeg's EVENT playlists are only a progress record, and a resumed run's playlist only
 * lists its own segments. For an uninterrupted run the result is byte for byte what ffmpeg 5.1 writes with
 * `-hls_playlist_type vod -hls_flags independent_segments` (a test compares them), so players see no difference,
 * and there is never an #EXT-X-DISCONTINUITY at a seam (the timestamps continue exactly).
 *
 * Then the rendition folders are cleaned of what is not part of the result: the inits of later runs
 * (range_init_N.mp4), .tmp files of a killed run, segment files that were never journaled (beyond the end, or
 * unfinished).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { WorkerError } from '../errors.js';
import { syncFolder } from '../util/durable-file.js';
import type { JournaledSegment } from './segment-journal.js';
import { localStagedWriter, type StagedWriter } from './staged-writer.js';

export interface JoinRendition {
  dir: string;
  /** Video rungs true (#EXT-X-INDEPENDENT-SEGMENTS, as ffmpeg writes it for them), audio renditions false. */
  independentSegments: boolean;
}

export interface JoinOptions {
  stagingDir: string;
  playlistName: string;
  segmentType: 'ts' | 'fmp4';
  renditions: JoinRendition[];
  segmentsOf(dir: string): JournaledSegment[];
  /** How the playlists are written and the strays removed (default: plain local writes; the stitch's: NasFs). */
  writer?: StagedWriter;
}

/** A rendition cannot be joined: its journal has a gap or misses what a playlist needs. Nothing was written. */
export class PlaylistJoinError extends WorkerError {
  constructor(message: string) {
    super('PLAYLIST_JOIN', message);
  }
}

/**
 * ffmpeg's #EXT-X-TARGETDURATION (hlsenc.c hls_window): `if (target <= d) target = lrint(d)` over the segments,
 * which comes to lrint of the longest; lrint rounds half to even.
 */
export function targetDuration(durations: number[]): number {
  let target = 0;
  for (const d of durations) if (target <= d) target = lrint(d);
  return target;
}

function lrint(x: number): number {
  const floor = Math.floor(x);
  const frac = x - floor;
  if (frac < 0.5) return floor;
  if (frac > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The playlist text. Version: ffmpeg 5.1 writes 7 for fMP4 and 6 for MPEG-TS with the independent_segments flag
 * (on every output of ours, audio included, though only video playlists carry the tag).
 */
export function joinedPlaylistText(
  segments: JournaledSegment[],
  o: { segmentType: 'ts' | 'fmp4'; independentSegments: boolean; map?: string },
): string {
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${o.segmentType === 'fmp4' ? 7 : 6}`,
    `#EXT-X-TARGETDURATION:${targetDuration(segments.map((s) => Number(s.duration)))}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
  ];
  if (o.independentSegments) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  if (o.map !== undefined) lines.push(`#EXT-X-MAP:URI="${o.map}"`);
  for (const s of segments) lines.push(`#EXTINF:${s.duration},`, s.file);
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

interface Planned {
  rendition: JoinRendition;
  segments: JournaledSegment[];
  map?: string;
}

/** Checks every rendition first (a refusal writes nothing), then writes each playlist and removes the strays. */
export async function writeJoinedPlaylists(o: JoinOptions): Promise<void> {
  const planned: Planned[] = [];
  for (const rendition of o.renditions) planned.push(await plan(o, rendition));
  for (const p of planned) {
    const dir = path.join(o.stagingDir, p.rendition.dir);
    const text = joinedPlaylistText(p.segments, {
      segmentType: o.segmentType,
      independentSegments: p.rendition.independentSegments,
      ...(p.map !== undefined ? { map: p.map } : {}),
    });
    const writer = o.writer ?? localStagedWriter;
    await writer.writeFile(path.join(dir, o.playlistName), text, { durable: true });
    const keep = new Set([o.playlistName, ...(p.map ? [p.map] : []), ...p.segments.map((s) => s.file)]);
    await removeStrays(dir, keep, writer);
  }
}

async function plan(o: JoinOptions, rendition: JoinRendition): Promise<Planned> {
  const segments = [...o.segmentsOf(rendition.dir)].sort((a, b) => a.index - b.index);
  const where = `rendition "${rendition.dir}" of ${o.stagingDir}`;
  if (segments.length === 0) throw new PlaylistJoinError(`No finished segment is recorded for ${where}.`);
  for (let i = 0; i < segments.length; i++) {
    if (segments[i]!.index !== i) {
      throw new PlaylistJoinError(
        `The finished segments of ${where} are not contiguous: segment ${i} is missing ` +
          `(the next one recorded is ${segments[i]!.index}), so its playlist cannot be written.`,
      );
    }
  }
  const dir = path.join(o.stagingDir, rendition.dir);
  for (const s of segments) {
    const size = await fileSize(path.join(dir, s.file));
    if (size !== s.bytes) {
      throw new PlaylistJoinError(
        size === undefined
          ? `Segment ${s.file} of ${where} was recorded as finished but is gone.`
          : `Segment ${s.file} of ${where} has ${size} bytes, not the ${s.bytes} recorded when it was finished.`,
      );
    }
  }
  if (o.segmentType !== 'fmp4') return { rendition, segments };
  // The first run's init serves every run: later runs' video inits differ (edit list) and are not used.
  const map = segments[0]!.map;
  if (!map) throw new PlaylistJoinError(`No init segment (#EXT-X-MAP) is recorded for the first segment of ${where}.`);
  if ((await fileSize(path.join(dir, map))) === undefined) {
    throw new PlaylistJoinError(`The init segment ${map} of ${where} is missing.`);
  }
  return { rendition, segments, map };
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    const st = await fs.stat(file);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the hls muxer leaves in a rendition folder: segments, inits (init.mp4, init_N.mp4, range_init_N.mp4) and
 * .tmp files. Only such names are removed: a rendition folder may be the master's folder itself ("."), where the
 * master playlist and the other renditions' folders live.
 */
const MUXER_FILE = /(?:\.ts|\.m4s|\.tmp|^(?:range_)?init(?:_\d+)?\.mp4)$/;

async function removeStrays(dir: string, keep: Set<string>, writer: StagedWriter): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  let removed = 0;
  for (const e of entries) {
    if (!e.isFile() || keep.has(e.name) || !MUXER_FILE.test(e.name)) continue;
    await writer.removeFile(path.join(dir, e.name));
    removed++;
  }
  if (removed > 0) await syncFolder(dir);
}
