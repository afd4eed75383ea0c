/**
 * The file work around webvtt-segment.ts: reads the whole WebVTT track ffmpeg wrote and the first video rung's
 * media playlist and first segment from staging, writes <outDir>/seg_00000.vtt... and <outDir>/stream.m3u8.
 * A broken or empty WebVTT never throws (warnings, cueCount 0, nothing written: the caller skips the track); a
 * video playlist or segment that cannot be read does, because then the video itself is broken.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import HLS from 'hls-parser';
import { StorageError } from '../errors.js';
import { fmp4VideoTimes, readFirstPts90k } from './media-start-time.js';
import { localStagedWriter, type StagedWriter } from './staged-writer.js';
import {
  defaultSubtitleSegmentName,
  mpegtsAtLocalZero,
  segmentWebVtt,
  subtitleMediaPlaylist,
} from './webvtt-segment.js';

export interface SubtitleRenditionArgs {
  /** The whole track as one WebVTT file (ffmpeg's -c:s webvtt -f webvtt output). */
  fullVttPath: string;
  /** Folder of the rendition; created if missing. */
  outDir: string;
  /** Media playlist of the first video rung (its EXTINF durations, target duration and first segment). */
  videoPlaylistPath: string;
  segmentType: 'ts' | 'fmp4';
  /** Local WebVTT time of the first video frame (see SegmentWebVttOptions.videoStartSec). Default 0. */
  videoStartSec?: number;
  /** Default "stream.m3u8". */
  playlistName?: string;
  /** Default seg_00000.vtt, seg_00001.vtt, ... */
  segmentName?: (i: number) => string;
  /** How outDir and its files are written (default: plain local writes; a stitch's staging on the NAS: NasFs). */
  writer?: StagedWriter;
}

export interface SubtitleRendition {
  /** Files written, relative to outDir (segments, then the playlist); empty when the track had no valid cue. */
  files: string[];
  cueCount: number;
  warnings: string[];
  /** The X-TIMESTAMP-MAP clock used: the video's 90 kHz timestamp at WebVTT local time 0. */
  mpegts: number;
}

interface VideoTimeline {
  durations: number[];
  targetDuration: number;
  firstPts90k: number;
  warnings: string[];
}

async function readVideoTimeline(playlistPath: string, kind: 'ts' | 'fmp4'): Promise<VideoTimeline> {
  let parsed: HLS.types.Playlist;
  try {
    parsed = HLS.parse(await readFile(playlistPath, 'utf8'));
  } catch (err) {
    throw new StorageError(`video playlist ${playlistPath} cannot be read: ${(err as Error).message}`);
  }
  if (parsed.isMasterPlaylist || (parsed as HLS.types.MediaPlaylist).segments.length === 0) {
    throw new StorageError(`video playlist ${playlistPath} is not a media playlist with segments`);
  }
  const pl = parsed as HLS.types.MediaPlaylist;
  const dir = path.dirname(playlistPath);
  const first = pl.segments[0]!;
  const segmentFile = path.resolve(dir, first.uri);
  const initFile = first.map ? path.resolve(dir, first.map.uri) : undefined;
  const warnings: string[] = [];
  let firstPts90k: number;
  try {
    firstPts90k = await readFirstPts90k(segmentFile, kind, initFile);
    if (kind === 'fmp4' && initFile) {
      const t = fmp4VideoTimes(await readFile(initFile), await readFile(segmentFile));
      const gap = t ? Math.abs(t.editShiftIso90k - t.editShiftChromium90k) / 90 : 0;
      if (gap > 1) {
        warnings.push(
          `the video's edit list places the first frame ${gap.toFixed(0)} ms apart in Chromium and in Safari/Firefox; cues follow Chromium`,
        );
      }
    }
  } catch (err) {
    throw new StorageError(`the start time of video segment ${segmentFile} cannot be read: ${(err as Error).message}`);
  }
  return {
    durations: pl.segments.map((s) => s.duration),
    targetDuration: pl.targetDuration,
    firstPts90k,
    warnings,
  };
}

async function readVtt(file: string): Promise<{ text: string; warning?: string }> {
  try {
    return { text: new TextDecoder('utf-8').decode(await readFile(file)) };
  } catch (err) {
    return { text: '', warning: `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})` };
  }
}

/** Cuts one subtitle track into an HLS WebVTT rendition beside the video. */
export async function writeSubtitleRendition(args: SubtitleRenditionArgs): Promise<SubtitleRendition> {
  const video = await readVideoTimeline(args.videoPlaylistPath, args.segmentType);
  const mpegts = mpegtsAtLocalZero(video.firstPts90k, args.videoStartSec ?? 0);
  const vtt = await readVtt(args.fullVttPath);
  const cut = segmentWebVtt(vtt.text, video.durations, { mpegts, videoStartSec: args.videoStartSec ?? 0 });
  const warnings = [...(vtt.warning ? [vtt.warning] : []), ...video.warnings, ...cut.warnings];
  if (cut.cueCount === 0) return { files: [], cueCount: 0, warnings, mpegts };

  const name = args.segmentName ?? defaultSubtitleSegmentName;
  const playlistName = args.playlistName ?? 'stream.m3u8';
  const writer = args.writer ?? localStagedWriter;
  await writer.mkdirs(args.outDir);
  const files: string[] = [];
  for (const [i, text] of cut.segments.entries()) {
    await writer.writeFile(path.join(args.outDir, name(i)), text);
    files.push(name(i));
  }
  await writer.writeFile(
    path.join(args.outDir, playlistName),
    subtitleMediaPlaylist(video.durations, video.targetDuration, name),
  );
  files.push(playlistName);
  return { files, cueCount: cut.cueCount, warnings, mpegts };
}
