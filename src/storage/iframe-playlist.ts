/**
 * The I-frame playlist of a video rendition (RFC 8216 4.3.3.6, listed in the master by EXT-X-I-FRAME-STREAM-INF,
 * 4.3.4.3), so Apple players and TVs can scrub: one EXT-X-BYTERANGE entry per segment, pointing at the keyframe
 * that opens it (the plan forces a keyframe on every segment boundary). The ranges are found in-process from the
 * head of each segment (iframe-ranges.ts); a two-hour film has ~1200 segments per rung, too many for one ffprobe
 * each.
 *
 * Invariants of the text: EXT-X-VERSION is the least the tags need (4 for EXT-X-BYTERANGE and
 * EXT-X-I-FRAMES-ONLY, 5 for EXT-X-MAP in an I-frames-only playlist: RFC 8216 section 7); each EXTINF is the time
 * to the next I-frame, which is the segment's own duration here; segment URIs are copied from the media playlist,
 * so the I-frame playlist must sit in the same folder. EXT-X-INDEPENDENT-SEGMENTS is left out: every entry of an
 * I-frames-only playlist is independent by definition, and the master's tag covers every media playlist.
 */
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import HLS from 'hls-parser';
import { StorageError } from '../errors.js';
import { fmp4IFrameRange, readFmp4Track, tsIFrameRange, type Fmp4Track, type IFrameRange } from './iframe-ranges.js';
import { measureBitrates, type SegmentMeasure } from './master-playlist.js';

/** The name the master's EXT-X-I-FRAME-STREAM-INF URI points at, next to the rendition's media playlist. */
export const IFRAME_PLAYLIST_NAME = 'iframes.m3u8';

export interface IFramePlaylist {
  text: string;
  /** Peak bits/s of the I-frame fetches over their durations (BANDWIDTH of EXT-X-I-FRAME-STREAM-INF). */
  peakBandwidth: number;
  /** Bits/s of all I-frame fetches (and the init section) over the whole duration (AVERAGE-BANDWIDTH). */
  averageBandwidth: number;
  /** One per segment of the media playlist. */
  entries: number;
}

export interface IFramePlaylistOptions {
  signal?: AbortSignal;
}

/** Bytes read first from each segment: a 1080p keyframe usually fits; bigger ones are read on in steps. */
const FIRST_READ = 256 * 1024;
/** Segments read side by side (the staging disk serves several reads at once; 1200 sequential opens are slow). */
const PARALLEL_READS = 8;

interface Entry {
  uri: string;
  mapUri?: string;
  discontinuity?: boolean;
  durationSec: number;
  range: IFrameRange;
}

/**
 * Builds the I-frame playlist of the media playlist `mediaPlaylistName` in `stagedDir` (it is not written: the
 * caller saves `text` as IFRAME_PLAYLIST_NAME next to it). Throws StorageError naming the playlist or segment whose
 * bytes do not hold a keyframe where one must be.
 */
export async function buildIFramePlaylist(
  stagedDir: string,
  mediaPlaylistName: string,
  opts: IFramePlaylistOptions = {},
): Promise<IFramePlaylist> {
  const file = path.join(stagedDir, mediaPlaylistName);
  const media = await readMediaPlaylist(file);
  const tracks = new Map<string, Fmp4Track>();
  let initBytes = 0;
  for (const seg of media.segments) {
    const uri = seg.map?.uri;
    if (uri === undefined || tracks.has(uri)) continue;
    const initFile = resolveInside(stagedDir, uri, file);
    const init = await readFile(initFile).catch((err: NodeJS.ErrnoException) => {
      throw new StorageError(`init section ${initFile} cannot be read (${err.code})`);
    });
    const track = parseWith(`init section ${initFile}`, () => readFmp4Track(init));
    tracks.set(uri, track);
    initBytes += init.length;
  }

  const entries: Entry[] = await mapLimited(media.segments, PARALLEL_READS, async (seg) => {
    opts.signal?.throwIfAborted();
    if (seg.byterange || seg.map?.byterange) {
      throw new StorageError(`media playlist ${file} uses byte ranges, which are not supported`);
    }
    const segFile = resolveInside(stagedDir, seg.uri, file);
    const track = seg.map?.uri === undefined ? undefined : tracks.get(seg.map.uri)!;
    const find = track
      ? (head: Uint8Array, complete: boolean) => fmp4IFrameRange(head, complete, track)
      : tsIFrameRange;
    const range = await findInHead(segFile, find);
    return { uri: seg.uri, mapUri: seg.map?.uri, discontinuity: seg.discontinuity, durationSec: seg.duration, range };
  });
  opts.signal?.throwIfAborted();

  // A TS client fetches each file's PAT/PMT (the bytes before the range) as well; fMP4's init is fetched once.
  const fetched: SegmentMeasure[] = entries.map((e) => ({
    bytes: e.range.length + (e.mapUri === undefined ? e.range.offset : 0),
    durationSec: e.durationSec,
  }));
  const longest = Math.max(...entries.map((e) => Math.round(e.durationSec)));
  const targetDuration = Math.max(media.targetDuration || 0, longest, 1);
  const { peak, average } = measureBitrates(fetched, targetDuration, initBytes);
  return {
    text: iframePlaylistText(entries, targetDuration),
    peakBandwidth: peak,
    averageBandwidth: average,
    entries: entries.length,
  };
}

function iframePlaylistText(entries: readonly Entry[], targetDuration: number): string {
  const fmp4 = entries.some((e) => e.mapUri !== undefined);
  const lines = [
    '#EXTM3U',
    `#EXT-X-VERSION:${fmp4 ? 5 : 4}`,
    `#EXT-X-TARGETDURATION:${targetDuration}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    '#EXT-X-I-FRAMES-ONLY',
  ];
  let map: string | undefined;
  for (const e of entries) {
    if (e.discontinuity) lines.push('#EXT-X-DISCONTINUITY');
    if (e.mapUri !== undefined && e.mapUri !== map) lines.push(`#EXT-X-MAP:URI="${e.mapUri}"`);
    map = e.mapUri;
    lines.push(`#EXTINF:${e.durationSec.toFixed(6)},`, `#EXT-X-BYTERANGE:${e.range.length}@${e.range.offset}`, e.uri);
  }
  lines.push('#EXT-X-ENDLIST', '');
  return lines.join('\n');
}

async function readMediaPlaylist(file: string): Promise<HLS.types.MediaPlaylist> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new StorageError(`media playlist ${file} cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  let pl: HLS.types.Playlist;
  try {
    pl = HLS.parse(text);
  } catch (err) {
    throw new StorageError(`playlist ${file} does not parse: ${(err as Error).message}`);
  }
  if (pl.isMasterPlaylist) throw new StorageError(`playlist ${file} should be a media playlist`);
  const media = pl as HLS.types.MediaPlaylist;
  if (media.segments.length === 0) throw new StorageError(`media playlist ${file} lists no segments`);
  return media;
}

/** The file a relative playlist URI names inside `dir`; anything absolute or climbing out is refused. */
function resolveInside(dir: string, uri: string, playlist: string): string {
  let rel: string;
  try {
    rel = path.posix.normalize(decodeURI(uri));
  } catch {
    rel = '..';
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || rel.startsWith('/') || rel.includes('\\') || rel.split('/')[0] === '..') {
    throw new StorageError(`playlist ${playlist} references ${uri}, which is not a file inside its folder`);
  }
  return path.join(dir, ...rel.split('/'));
}

/** Runs a byte parser, turning its Error into a StorageError that names `what` ("segment /staged/v0/seg_00007.ts"). */
function parseWith<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new StorageError(`${what} ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reads `file` from its start until `find` can answer: FIRST_READ bytes, then four times more each round, the
 * whole file at most. `find` sees everything read so far and whether that is the whole file.
 */
async function findInHead(
  file: string,
  find: (head: Uint8Array, complete: boolean) => IFrameRange | undefined,
): Promise<IFrameRange> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw new StorageError(`segment ${file} cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  try {
    const size = (await fh.stat()).size;
    let head = Buffer.alloc(0);
    for (let want = Math.min(size, FIRST_READ); ; want = Math.min(size, want * 4)) {
      const next = Buffer.allocUnsafe(want); // only the bytes read are ever looked at
      head.copy(next);
      const { bytesRead } = await fh.read(next, head.length, want - head.length, head.length);
      head = next.subarray(0, head.length + bytesRead);
      const complete = head.length >= size || bytesRead === 0;
      const range = parseWith(`segment ${file}`, () => find(head, complete));
      if (range) return range;
      if (complete) throw new StorageError(`segment ${file} holds no complete I-frame`);
    }
  } finally {
    await fh.close();
  }
}

/** `fn` over `items` with at most `limit` running at once; results in input order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!);
      } catch (err) {
        failed = true; // the others stop at their next item; the first error is the one reported
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
