/**
 * Whether a committed HLS ladder (MPEG-TS segments) is indistinguishable from one uninterrupted run, read from the
 * outside (issue 12's checks for resume and split): every media playlist is VOD, ends, has no
 * #EXT-X-DISCONTINUITY and segments of segment_time (±1 frame, the last one shorter); each segment's first
 * timestamp follows the previous one's by its duration (±1 video frame, ±1 AAC frame for audio), so nothing is
 * missing or doubled at a seam; the audio decoded as a player gets it (segments concatenated) has the film's
 * length and no click at the seams (second difference of the sine no larger than anywhere else).
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FFMPEG, FFPROBE } from './media.js';

const execFileP = promisify(execFile);

interface MediaPlaylist {
  uri: string;
  kind: 'video' | 'audio';
  name: string;
  segments: Array<{ file: string; duration: number }>;
  text: string;
}

export interface LadderCheck {
  problems: string[];
  /** Segments per rendition, keyed by the rung's folder name ("270p") or "audio" for the first audio rendition. */
  segmentsPerRendition: Record<string, number>;
  /** Max second difference of the decoded audio within 50 ms of each seam, and elsewhere. */
  click?: { atSeams: number; elsewhere: number };
}

async function readPlaylists(ladderDir: string): Promise<MediaPlaylist[]> {
  const master = await readFile(path.join(ladderDir, 'index.m3u8'), 'utf8');
  const out: MediaPlaylist[] = [];
  const lines = master.split('\n');
  const add = async (uri: string, kind: 'video' | 'audio') => {
    if (out.some((p) => p.uri === uri)) return;
    const text = await readFile(path.join(ladderDir, decodeURIComponent(uri)), 'utf8');
    const segments: MediaPlaylist['segments'] = [];
    const l = text.split('\n');
    for (let i = 0; i < l.length; i++) {
      const m = /^#EXTINF:([0-9.]+),/.exec(l[i]!);
      if (m) segments.push({ file: l[i + 1]!.trim(), duration: Number(m[1]) });
    }
    const name =
      kind === 'audio' ? (out.some((p) => p.kind === 'audio') ? `audio-${uri}` : 'audio') : uri.split('/')[0]!;
    out.push({ uri, kind, name, segments, text });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#EXT-X-STREAM-INF')) await add(lines[i + 1]!.trim(), 'video');
    const audio = /^#EXT-X-MEDIA:TYPE=AUDIO.*URI="([^"]+)"/.exec(line);
    if (audio) await add(audio[1]!, 'audio');
  }
  return out;
}

async function firstPts(file: string, stream: 'v' | 'a'): Promise<number> {
  const { stdout } = await execFileP(FFPROBE, [
    '-v',
    'error',
    '-select_streams',
    `${stream}:0`,
    '-show_entries',
    'packet=pts',
    '-read_intervals',
    '%+#1',
    '-of',
    'csv=p=0',
    file,
  ]);
  // csv may end a value with a separator ("673200,"): take the leading integer, and never let a NaN pass a check.
  const value = Number.parseInt(stdout.trim().split('\n')[0] ?? '', 10);
  if (!Number.isFinite(value)) throw new Error(`no first ${stream === 'v' ? 'video' : 'audio'} timestamp in ${file}`);
  return value;
}

/** The audio as a player decodes it: the segments concatenated, to 48 kHz mono 16-bit samples. */
async function decodeAudio(files: string[]): Promise<Int16Array> {
  const joined = path.join(os.tmpdir(), `tw-ladder-audio-${process.pid}-${Date.now()}.ts`);
  await writeFile(joined, Buffer.concat(await Promise.all(files.map((f) => readFile(f)))));
  const { stdout } = await execFileP(
    FFMPEG,
    ['-v', 'error', '-i', joined, '-map', '0:a:0', '-ac', '1', '-ar', '48000', '-f', 's16le', '-'],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  await import('node:fs/promises').then((fs) => fs.rm(joined, { force: true }));
  const buf = stdout as unknown as Buffer;
  return new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 2));
}

function maxSecondDifference(s: Int16Array, from: number, to: number): number {
  let max = 0;
  for (let i = Math.max(1, from); i < Math.min(s.length - 1, to); i++)
    max = Math.max(max, Math.abs(s[i + 1]! - 2 * s[i]! + s[i - 1]!));
  return max;
}

export async function ladderCheck(
  ladderDir: string,
  opts: { segmentTime: number; seams: number[]; fps?: number },
): Promise<LadderCheck> {
  const fps = opts.fps ?? 25;
  const problems: string[] = [];
  const segmentsPerRendition: Record<string, number> = {};
  const playlists = await readPlaylists(ladderDir);
  let click: LadderCheck['click'];
  for (const p of playlists) {
    const where = p.name;
    segmentsPerRendition[p.name] = p.segments.length;
    if (!p.text.includes('#EXT-X-PLAYLIST-TYPE:VOD')) problems.push(`${where}: not a VOD playlist`);
    if (!p.text.includes('#EXT-X-ENDLIST')) problems.push(`${where}: no ENDLIST`);
    if (p.text.includes('#EXT-X-DISCONTINUITY')) problems.push(`${where}: has a DISCONTINUITY`);
    if (!p.text.includes('#EXT-X-MEDIA-SEQUENCE:0')) problems.push(`${where}: media sequence not 0`);
    const tolerance = p.kind === 'video' ? 1 / fps : 1024 / 48000;
    p.segments.forEach((s, k) => {
      const expected = `seg_${String(k).padStart(5, '0')}.ts`;
      if (s.file !== expected) problems.push(`${where}: segment ${k} is ${s.file}, expected ${expected}`);
      const last = k === p.segments.length - 1;
      if (!last && Math.abs(s.duration - opts.segmentTime) > tolerance + 1e-6)
        problems.push(`${where}: segment ${k} lasts ${s.duration} s`);
    });
    const dir = path.join(ladderDir, path.dirname(decodeURIComponent(p.uri)));
    const pts = await Promise.all(
      p.segments.map((s) => firstPts(path.join(dir, s.file), p.kind === 'video' ? 'v' : 'a')),
    );
    for (let k = 1; k < pts.length; k++) {
      const step = (pts[k]! - pts[k - 1]!) / 90000;
      const want = p.segments[k - 1]!.duration;
      if (Math.abs(step - want) > tolerance + 1e-4)
        problems.push(`${where}: segment ${k} starts ${(step - want).toFixed(4)} s off (after ${want} s)`);
    }
    if (p.kind === 'audio' && !click) {
      const samples = await decodeAudio(p.segments.map((s) => path.join(dir, s.file)));
      const total = p.segments.reduce((sum, s) => sum + s.duration, 0);
      if (Math.abs(samples.length / 48000 - total) > 2 * tolerance)
        problems.push(
          `${where}: decodes to ${(samples.length / 48000).toFixed(3)} s, the playlist says ${total.toFixed(3)} s`,
        );
      const win = 2400; // 50 ms
      const atSeams = Math.max(
        0,
        ...opts.seams.map((k) => {
          const at = Math.round(k * opts.segmentTime * 48000);
          return maxSecondDifference(samples, at - win, at + win);
        }),
      );
      // Elsewhere: a stretch of the same length well inside the film (skipping its start: the first frames ramp up).
      const elsewhere = maxSecondDifference(samples, 48000, Math.min(samples.length, 48000 * 20));
      click = { atSeams, elsewhere };
      if (atSeams > Math.max(2 * elsewhere, 64))
        problems.push(`${where}: a click at a seam (second difference ${atSeams}, ${elsewhere} elsewhere)`);
    }
  }
  return { problems, segmentsPerRendition, ...(click ? { click } : {}) };
}
