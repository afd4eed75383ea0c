/**
 * Test media generated at test time with ffmpeg's lavfi sources (no binary fixtures, no downloads).
 * Keep everything tiny (320x180, 1-3 s): the suite runs on 2 shared cores.
 *
 * The API is shared between engineers: only ever ADD options/functions, never change what an existing one does.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export const FFMPEG = process.env.TEST_FFMPEG ?? 'ffmpeg';
export const FFPROBE = process.env.TEST_FFPROBE ?? 'ffprobe';

export interface SourceOptions {
  /** File name inside dir; the extension picks the container (.mp4, .mkv, .ts, .mov). Default "source.mp4" (.ts for mpeg2video). */
  name?: string;
  width?: number;
  height?: number;
  /** Seconds. Default 2. */
  duration?: number;
  fps?: number;
  /** Video encoder. Default libx264. */
  codec?: 'libx264' | 'libx265' | 'mpeg2video';
  /** Tag the video as HDR (PQ = HDR10, or HLG) with BT.2020 primaries; implies 10-bit (libx265 recommended). */
  hdr?: 'pq' | 'hlg';
  /** 10-bit pixel format (yuv420p10le). Implied by hdr. */
  tenBit?: boolean;
  /** Channels of the first audio track (0 = no audio). Default 2. */
  audioChannels?: number;
  /** Sample rate of every audio track. Default 48000 (44100: the commonest rate of downloaded MP4s). */
  audioRate?: number;
  /** Channels of extra audio tracks, in order (e.g. [2] adds one stereo track). */
  extraAudio?: number[];
  /** Mark this audio track (0-based among audio tracks) as the default one (mkv). */
  defaultAudio?: number;
  /** Language tags of the audio tracks, in order. */
  audioLanguages?: string[];
  /** Add a subtitle track (mkv: srt->subrip, mp4: mov_text). */
  subtitles?: boolean;
  /** Display rotation in degrees (written as the rotate tag -> display matrix by the mp4/mov muxer). */
  rotate?: 90 | 180 | 270;
  /** Sample aspect ratio such as "4:3" (non-square pixels). */
  sar?: string;
  /** Encode interlaced (top field first). */
  interlaced?: boolean;
  /**
   * A variable frame rate, as phones and screen recorders write: of the frames at `fps`, keep every 3rd and every
   * 5th (47 % of them, 1 to 3 frame times apart); r_frame_rate stays `fps`.
   */
  variableRate?: boolean;
  /** Extra raw ffmpeg output args appended before the output file. */
  extraArgs?: string[];
}

/** Runs ffmpeg with the given argv (no shell); throws with stderr on failure. */
export async function runFfmpeg(args: string[], timeoutMs = 60_000): Promise<void> {
  try {
    await execFileP(FFMPEG, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], {
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`ffmpeg failed: ${e.stderr || e.message}\nargs: ${args.join(' ')}`);
  }
}

/** A fresh temporary folder; remove it with removeDir (or rm -rf) in afterEach/afterAll. */
export async function makeTempDir(prefix = 'tw-media-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

function layoutOf(channels: number): string {
  switch (channels) {
    case 1:
      return 'mono';
    case 2:
      return 'stereo';
    case 6:
      return '5.1';
    case 8:
      return '7.1';
    default:
      return `${channels}c`;
  }
}

/** Generates a small test source and returns its absolute path. */
export async function makeSource(dir: string, opts: SourceOptions = {}): Promise<string> {
  const codec = opts.codec ?? 'libx264';
  const width = opts.width ?? 320;
  const height = opts.height ?? 180;
  const duration = opts.duration ?? 2;
  const fps = opts.fps ?? 25;
  const name = opts.name ?? (codec === 'mpeg2video' ? 'source.ts' : 'source.mp4');
  const out = path.join(dir, name);
  const ext = path.extname(name).toLowerCase();
  const tenBit = opts.tenBit || Boolean(opts.hdr);

  const audio = [opts.audioChannels ?? 2, ...(opts.extraAudio ?? [])].filter((c) => c > 0);

  // testsrc2 rounds odd sizes to even; testsrc keeps them (odd sizes then need 4:4:4 for libx264).
  const odd = width % 2 === 1 || height % 2 === 1;
  const pattern = odd ? 'testsrc' : 'testsrc2';
  const args: string[] = ['-f', 'lavfi', '-i', `${pattern}=size=${width}x${height}:rate=${fps}:duration=${duration}`];
  audio.forEach((ch, i) => {
    args.push(
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${440 + i * 110}:sample_rate=${opts.audioRate ?? 48_000}:duration=${duration},aformat=channel_layouts=${layoutOf(ch)}`,
    );
  });
  let subFile: string | undefined;
  if (opts.subtitles) {
    subFile = path.join(dir, `${path.basename(name, ext)}.srt`);
    await writeFile(subFile, `1\n00:00:00,000 --> 00:00:01,000\nHello\n\n2\n00:00:01,000 --> 00:00:02,000\nWorld\n`);
    args.push('-i', subFile);
  }

  args.push('-map', '0:v');
  audio.forEach((_, i) => args.push('-map', `${i + 1}:a`));
  if (subFile) args.push('-map', `${audio.length + 1}:s`);

  const vf: string[] = [];
  if (opts.sar) vf.push(`setsar=${opts.sar.replace(':', '/')}`);
  // Top field first, marked on the frames (ffmpeg 7+ removed the -top option; setfield works on every version).
  if (opts.interlaced && codec !== 'libx264') vf.push('setfield=tff');
  if (opts.variableRate) vf.push('select=not(mod(n\\,5))+not(mod(n\\,3))');
  if (vf.length) args.push('-vf', vf.join(','));
  // -fps_mode (5.1 and later; -vsync is gone from 9.0): keep the selected frames' own timestamps.
  if (opts.variableRate) args.push('-fps_mode', 'vfr');

  args.push('-c:v', codec);
  if (codec === 'libx264') args.push('-preset', 'ultrafast');
  if (codec === 'libx265') args.push('-preset', 'ultrafast');
  if (codec === 'mpeg2video') args.push('-b:v', '1M');
  args.push('-pix_fmt', odd ? (tenBit ? 'yuv444p10le' : 'yuv444p') : tenBit ? 'yuv420p10le' : 'yuv420p');

  if (opts.hdr) {
    const trc = opts.hdr === 'pq' ? 'smpte2084' : 'arib-std-b67';
    args.push('-color_primaries', 'bt2020', '-color_trc', trc, '-colorspace', 'bt2020nc');
    if (codec === 'libx265') {
      // x265 writes the colour description into the bitstream VUI; the container tags alone are not always kept.
      const x265 = [
        'log-level=error',
        'colorprim=bt2020',
        `transfer=${trc}`,
        'colormatrix=bt2020nc',
        ...(opts.hdr === 'pq'
          ? [
              'hdr10=1',
              'master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)',
              'max-cll=1000,400',
            ]
          : []),
      ];
      args.push('-x265-params', x265.join(':'));
    }
  } else if (codec === 'libx265') {
    args.push('-x265-params', 'log-level=error');
  }
  if (codec === 'libx265' && (ext === '.mp4' || ext === '.mov')) args.push('-tag:v', 'hvc1');

  if (opts.interlaced) {
    if (codec === 'libx264') args.push('-flags', '+ildct+ilme', '-x264opts', 'tff=1');
    else args.push('-flags', '+ildct+ilme');
    args.push('-field_order', 'tt');
  }

  if (audio.length) args.push('-c:a', ext === '.ts' ? 'mp2' : 'aac', '-b:a', '96k');
  audio.forEach((_, i) => {
    const lang = opts.audioLanguages?.[i];
    if (lang) args.push(`-metadata:s:a:${i}`, `language=${lang}`);
    if (opts.defaultAudio !== undefined) args.push(`-disposition:a:${i}`, i === opts.defaultAudio ? 'default' : '0');
  });
  if (subFile) args.push('-c:s', ext === '.mkv' ? 'subrip' : 'mov_text');
  args.push(...(opts.extraArgs ?? []));
  if (!opts.rotate) {
    args.push('-t', String(duration), out);
    await runFfmpeg(args);
    return out;
  }
  // Encode first, then remux with the rotation: ffmpeg 5.1 turns the rotate tag into a display matrix only when
  // stream-copying; ffmpeg 6+ ignores that tag and takes the input option -display_rotation (degrees
  // anticlockwise, where the tag was clockwise).
  const tmp = path.join(dir, `.unrotated-${path.basename(name)}`);
  args.push('-t', String(duration), tmp);
  await runFfmpeg(args);
  const rotation = (await hasDisplayRotation())
    ? ['-display_rotation', String(-opts.rotate), '-i', tmp, '-map', '0', '-c', 'copy']
    : ['-i', tmp, '-map', '0', '-c', 'copy', '-metadata:s:v:0', `rotate=${opts.rotate}`];
  await runFfmpeg([...rotation, out]);
  await rm(tmp, { force: true });
  return out;
}

let displayRotation: Promise<boolean> | undefined;

/** Whether this ffmpeg has the -display_rotation input option (6.0 and later), asked once. */
function hasDisplayRotation(): Promise<boolean> {
  displayRotation ??= promisify(execFile)(FFMPEG, ['-hide_banner', '-h', 'full'], { maxBuffer: 64 * 1024 * 1024 })
    .then((r) => r.stdout.includes('-display_rotation'))
    .catch(() => false);
  return displayRotation;
}

/** An audio-only file (AAC in .m4a by default). */
export async function makeAudioOnly(
  dir: string,
  opts: { name?: string; duration?: number; channels?: number } = {},
): Promise<string> {
  const out = path.join(dir, opts.name ?? 'audio.m4a');
  const d = opts.duration ?? 2;
  await runFfmpeg([
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:sample_rate=48000:duration=${d},aformat=channel_layouts=${layoutOf(opts.channels ?? 2)}`,
    '-c:a',
    'aac',
    '-b:a',
    '96k',
    out,
  ]);
  return out;
}

/** A file of random bytes that no demuxer recognises. */
export async function makeRandomBytes(dir: string, opts: { name?: string; size?: number } = {}): Promise<string> {
  const out = path.join(dir, opts.name ?? 'random.mp4');
  // Bytes that no probe signature matches, then noise. The noise is fixed (SHA-256 in counter mode from one seed),
  // not random: about 1 random file in 200 passes the raw h263 probe, and ffprobe then names that format instead
  // of failing to read the file. These bytes were checked against ffprobe 5.1, 7.1 and 9.0 (each reads no format).
  const size = opts.size ?? 64 * 1024;
  const blocks: Buffer[] = [Buffer.from('NOT A MEDIA FILE\n')];
  for (let i = 0; i * 32 < size; i++) blocks.push(createHash('sha256').update(`transcode-worker noise ${i}`).digest());
  await writeFile(out, Buffer.concat(blocks).subarray(0, 17 + size));
  return out;
}

/** Copies the first `fraction` of a file (a download cut short). For mp4 with the moov atom at the end this breaks the index. */
export async function makeTruncated(src: string, dest: string, fraction = 0.4): Promise<string> {
  const size = (await stat(src)).size;
  const keep = Math.max(1, Math.floor(size * fraction));
  const fh = await open(src, 'r');
  try {
    const buf = Buffer.alloc(keep);
    await fh.read(buf, 0, keep, 0);
    await writeFile(dest, buf);
  } finally {
    await fh.close();
  }
  return dest;
}

/** Runs ffprobe -show_format -show_streams on a file and returns the parsed JSON (for assertions on outputs). */
export async function probeJson(file: string): Promise<{
  format: Record<string, unknown>;
  streams: Array<Record<string, unknown>>;
}> {
  const { stdout } = await execFileP(
    FFPROBE,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as { format: Record<string, unknown>; streams: Array<Record<string, unknown>> };
}
