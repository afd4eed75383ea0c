/**
 * Checks the staged tree before anything reaches the NAS: every playlist parses, every referenced segment (and
 * fMP4 init section) exists and is non-empty, each media playlist is complete (#EXT-X-ENDLIST) and lasts as long
 * as the source. Then measures what the master playlist needs (real bitrates, codec strings) and rewrites it,
 * swapping the staging folder names ffmpeg used (v0, v1, ...) for the renditions' real folders on the NAS.
 */
import { open, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import HLS from 'hls-parser';
import { StorageError } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { RenditionPlan, TranscodePlan } from '../transcode/types.js';
import {
  AAC_LC_CODEC,
  avcCodecFromBytes,
  buildMasterPlaylist,
  measureBitrates,
  videoCodecString,
  type MasterVariant,
  type SegmentMeasure,
} from './master-playlist.js';
import { readVideoParams } from './segment-video.js';

export interface StagedRendition {
  rendition: RenditionPlan;
  /** Absolute staged folder of this rendition (stagingDir/<variantDir>; the commit copies it to destPath). */
  stagedDir: string;
  /** The rendition's own files, relative to stagedDir with forward slashes: playlist, init section, segments. */
  files: string[];
  /** Segment (+ init) bytes. */
  mediaBytes: number;
  durationSec: number;
  peakBitrate: number;
  averageBitrate: number;
  width: number;
  height: number;
  codecs: string[];
}

export interface VerifiedStaging {
  renditions: StagedRendition[];
  /** Absolute path of the staged master playlist. */
  masterFile: string;
  /** Every byte that the commit will copy. */
  totalBytes: number;
}

export interface VerifyOptions {
  runner: CommandRunner;
  ffprobePath: string;
  signal?: AbortSignal;
  /** Told when a segment's video parameters could not be read in-process and ffprobe is asked instead. */
  onFallback?: (file: string) => void;
}

/** Accepted difference between the summed segment durations and the source duration. */
export function durationTolerance(sourceSec: number): number {
  return Math.max(1, sourceSec * 0.02);
}

/** Absolute staged folder of a rendition: plan.stagingDir/<variantDir> (the staging root for "."). */
export function stagedDirOf(plan: Pick<TranscodePlan, 'stagingDir'>, r: Pick<RenditionPlan, 'variantDir'>): string {
  return path.join(plan.stagingDir, ...r.variantDir.split('/').filter((p) => p !== '' && p !== '.'));
}

/** The media playlist's URI in the master that ffmpeg writes into staging ("v0/stream.m3u8", or "stream.m3u8"). */
export function stagedVariantUri(r: Pick<RenditionPlan, 'variantDir' | 'playlistName'>): string {
  return path.posix.join(r.variantDir, r.playlistName);
}

/**
 * The media playlist's URI in the master committed to the NAS: the rendition's real folder relative to masterDir,
 * each folder name percent-encoded (a space, comma, '%' or "é" is not valid raw in a URI; players decode them),
 * e.g. "Am%C3%A9lie%2C%20l'%C3%A9t%C3%A9/720p/stream.m3u8". Just the playlist name when destPath is masterDir.
 */
export function finalVariantUri(
  plan: Pick<TranscodePlan, 'masterDir'>,
  r: Pick<RenditionPlan, 'destPath' | 'playlistName'>,
): string {
  const rel = path.posix.relative(plan.masterDir, r.destPath);
  const folders = rel.split('/').filter(Boolean).map(encodeURIComponent);
  return [...folders, encodeURIComponent(r.playlistName)].join('/');
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StorageError(
      `${what} ${file} ${code === 'ENOENT' ? 'was not written by ffmpeg' : `cannot be read (${code})`}`,
    );
  }
}

function parsePlaylist(text: string, file: string): HLS.types.Playlist {
  try {
    return HLS.parse(text);
  } catch (err) {
    throw new StorageError(`playlist ${file} does not parse: ${(err as Error).message}`);
  }
}

/** Resolves a playlist URI inside `baseDir`; refuses absolute URIs and anything that climbs out. */
function resolveInside(baseDir: string, uri: string, file: string): string {
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

async function verifyMediaPlaylist(plan: TranscodePlan, r: RenditionPlan) {
  const stagedDir = stagedDirOf(plan, r);
  const file = path.join(stagedDir, r.playlistName);
  const pl = parsePlaylist(await readText(file, 'media playlist'), file);
  if (pl.isMasterPlaylist)
    throw new StorageError(`playlist ${file} should be a media playlist but is a master playlist`);
  const media = pl as HLS.types.MediaPlaylist;
  if (!media.endlist) throw new StorageError(`media playlist ${file} is incomplete (no #EXT-X-ENDLIST)`);
  if (media.segments.length === 0) throw new StorageError(`media playlist ${file} lists no segments`);

  const files = new Set<string>([r.playlistName]);
  const measures: SegmentMeasure[] = [];
  let initBytes = 0;
  let firstMedia: string | undefined;
  for (const seg of media.segments) {
    if (seg.map?.uri) {
      const rel = resolveInside(stagedDir, seg.map.uri, file);
      if (!files.has(rel)) {
        files.add(rel);
        initBytes += await nonEmptySize(path.join(stagedDir, rel), file);
        firstMedia ??= path.join(stagedDir, rel);
      }
    }
    const rel = resolveInside(stagedDir, seg.uri, file);
    files.add(rel);
    const bytes = await nonEmptySize(path.join(stagedDir, rel), file);
    firstMedia ??= path.join(stagedDir, rel);
    measures.push({ bytes, durationSec: seg.duration });
  }
  const durationSec = measures.reduce((s, m) => s + m.durationSec, 0);
  const expected = plan.source.durationSec;
  if (expected > 0 && Math.abs(durationSec - expected) > durationTolerance(expected)) {
    throw new StorageError(
      `media playlist ${file} lasts ${durationSec.toFixed(2)} s but the source lasts ${expected.toFixed(2)} s`,
    );
  }
  const { peak, average } = measureBitrates(measures, media.targetDuration || plan.segmentTime, initBytes);
  const mediaBytes = measures.reduce((s, m) => s + m.bytes, 0) + initBytes;
  return { stagedDir, files: [...files], mediaBytes, durationSec, peak, average, firstMedia: firstMedia! };
}

interface StreamFacts {
  codec: string;
  width: number;
  height: number;
}

/**
 * Codec string and real size of the first video stream of a segment (or fMP4 init section), read from its
 * sequence parameter set in-process (segment-video.ts): the bytes are checked for real and no ffprobe process is
 * started (~70 ms of start-up each, the bulk of what verification used to cost). ffprobe remains the fallback for
 * a stream the reader does not understand.
 */
async function probeVideo(file: string, r: RenditionPlan, opts: VerifyOptions): Promise<StreamFacts> {
  const head = await readHead(file, 256 * 1024);
  const fromBytes = readVideoParams(head);
  if (fromBytes) return fromBytes;
  opts.onFallback?.(file);
  return probeVideoWithFfprobe(file, r, head, opts);
}

async function probeVideoWithFfprobe(
  file: string,
  r: RenditionPlan,
  head: Uint8Array,
  opts: VerifyOptions,
): Promise<StreamFacts> {
  const res = await opts.runner(
    opts.ffprobePath,
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=codec_name,profile,level,width,height',
      '-of',
      'json',
      file,
    ],
    { timeoutMs: 15_000, signal: opts.signal },
  );
  const hevc = /hevc|265/.test(r.encoder);
  let s: Record<string, unknown> | undefined;
  try {
    if (res.exitCode === 0) s = (JSON.parse(res.stdout) as { streams?: Array<Record<string, unknown>> }).streams?.[0];
  } catch {
    s = undefined;
  }
  // H.264: the exact profile/constraints/level from the bytes when they can be found (ffprobe reports no profile
  // for an fMP4 init section, and its profile names lose the constraint flags).
  const avc = hevc ? undefined : avcCodecFromBytes(head);
  const codec =
    avc ??
    (s
      ? videoCodecString(String(s.codec_name ?? ''), s.profile as string | undefined, Number(s.level) || undefined)
      : videoCodecString(hevc ? 'hevc' : 'h264', undefined, undefined));
  return { codec, width: Number(s?.width) || r.width, height: Number(s?.height) || r.height };
}

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Verifies the staged tree of `plan` and rewrites its master playlist. Throws StorageError naming the bad file. */
export async function verifyStaging(plan: TranscodePlan, opts: VerifyOptions): Promise<VerifiedStaging> {
  const masterFile = path.join(plan.stagingDir, plan.masterPlaylistName);
  const master = parsePlaylist(await readText(masterFile, 'master playlist'), masterFile);
  if (!master.isMasterPlaylist) throw new StorageError(`playlist ${masterFile} should be a master playlist`);
  const listed = new Set(
    (master as HLS.types.MasterPlaylist).variants.map((v) => resolveInside('', v.uri, masterFile)),
  );

  const renditions: StagedRendition[] = [];
  const variants: MasterVariant[] = [];
  // Renditions are independent: check them side by side, keeping the plan's order.
  const checked = await Promise.all(
    plan.renditions.map(async (r) => {
      const staged = stagedVariantUri(r);
      if (!listed.has(staged)) throw new StorageError(`master playlist ${masterFile} does not list ${staged}`);
      const m = await verifyMediaPlaylist(plan, r);
      return { r, uri: finalVariantUri(plan, r), m, facts: await probeVideo(m.firstMedia, r, opts) };
    }),
  );
  for (const { r, uri, m, facts } of checked) {
    const codecs = plan.audio ? [facts.codec, AAC_LC_CODEC] : [facts.codec];
    renditions.push({
      rendition: r,
      stagedDir: m.stagedDir,
      files: m.files,
      mediaBytes: m.mediaBytes,
      durationSec: m.durationSec,
      peakBitrate: m.peak,
      averageBitrate: m.average,
      width: facts.width,
      height: facts.height,
      codecs,
    });
    variants.push({
      uri,
      bandwidth: m.peak,
      averageBandwidth: m.average,
      width: facts.width,
      height: facts.height,
      frameRate: plan.fps,
      codecs,
    });
  }
  const text = buildMasterPlaylist(variants, {
    version: plan.segmentType === 'fmp4' ? 7 : 3,
    independentSegments: true,
  });
  await writeFile(masterFile, text);
  const playlistBytes = await Promise.all(
    renditions.map(async (r) => (await stat(path.join(r.stagedDir, r.rendition.playlistName))).size),
  );
  const totalBytes =
    Buffer.byteLength(text) +
    renditions.reduce((s, r) => s + r.mediaBytes, 0) +
    playlistBytes.reduce((a, b) => a + b, 0);
  return { renditions, masterFile, totalBytes };
}
