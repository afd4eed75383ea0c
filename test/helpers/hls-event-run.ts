/**
 * A small real ffmpeg 5.1 hls run for the journal and join tests: lavfi testsrc2 + sine, two video rungs
 * (320x180, 160x90) and one AAC rendition, T = 1 s, keyframes forced on the grid, one hls output with the
 * worker's flags (`independent_segments+temp_file`) and a chosen playlist type.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { FFMPEG, runFfmpeg } from './media.js';

export const RENDITIONS = ['v0', 'v1', 'a0'];
export const PLAYLIST = 'stream.m3u8';

export interface HlsRunOptions {
  stagingDir: string;
  segmentType: 'ts' | 'fmp4';
  playlistType: 'event' | 'vod';
  seconds: number;
  /** -readrate: input at this many times real time (so a test can catch the run in the middle). */
  readRate?: number;
}

export function hlsRunArgs(o: HlsRunOptions): string[] {
  const fmp4 = o.segmentType === 'fmp4';
  const rate = o.readRate ? ['-readrate', String(o.readRate)] : [];
  return [
    ...rate,
    '-f',
    'lavfi',
    '-i',
    `testsrc2=s=320x180:r=25:d=${o.seconds}`,
    ...rate,
    '-f',
    'lavfi',
    '-i',
    `sine=f=440:r=48000:d=${o.seconds}`,
    '-filter_complex',
    '[0:v]split=2[a][b];[a]format=yuv420p[v0];[b]scale=160:90,format=yuv420p[v1]',
    '-map',
    '[v0]',
    '-map',
    '[v1]',
    '-map',
    '1:a',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '25',
    '-keyint_min',
    '25',
    '-sc_threshold',
    '0',
    '-force_key_frames',
    'expr:gte(t,n_forced*1)',
    '-c:a',
    'aac',
    '-b:a',
    '64k',
    '-f',
    'hls',
    '-hls_time',
    '1',
    '-hls_playlist_type',
    o.playlistType,
    '-hls_flags',
    'independent_segments+temp_file',
    '-hls_segment_type',
    fmp4 ? 'fmp4' : 'mpegts',
    ...(fmp4 ? ['-hls_fmp4_init_filename', 'init.mp4'] : []),
    '-hls_segment_filename',
    `${o.stagingDir}/%v/seg_%05d.${fmp4 ? 'm4s' : 'ts'}`,
    '-var_stream_map',
    'v:0,name:v0 v:1,name:v1 a:0,name:a0',
    `${o.stagingDir}/%v/${PLAYLIST}`,
  ];
}

export async function runHls(o: HlsRunOptions): Promise<void> {
  await runFfmpeg(hlsRunArgs(o));
}

/** Starts the run in the background (the caller kills it). */
export function spawnHls(o: HlsRunOptions): ChildProcess {
  return spawn(FFMPEG, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...hlsRunArgs(o)], {
    stdio: 'ignore',
  });
}
