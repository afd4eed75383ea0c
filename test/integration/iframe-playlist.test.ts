/**
 * buildIFramePlaylist on ladders cut by real ffmpeg 5.1 (TS and fMP4, H.264 and HEVC): every byte range it lists
 * must be, for ffprobe, exactly one whole keyframe (with the bytes a client puts before it: the TS file's PAT/PMT,
 * or the fMP4 init section), one per segment, lasting as long as the media playlist.
 */
import { execFile } from 'node:child_process';
import { copyFile, link, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { buildIFramePlaylist } from '../../src/storage/iframe-playlist.js';
import { FFPROBE, makeTempDir, removeDir, runFfmpeg } from '../helpers/media.js';

const execFileP = promisify(execFile);

let root: string;

interface Ladder {
  dir: string;
  ext: string;
}

/** 8 s of 640x360 25 fps video, a keyframe forced every 2 s (one GOP per segment), cut into 2 s HLS segments. */
async function makeLadder(name: string, codec: string[], type: 'mpegts' | 'fmp4'): Promise<Ladder> {
  const dir = path.join(root, name);
  await mkdir(dir);
  const ext = type === 'fmp4' ? 'm4s' : 'ts';
  await runFfmpeg([
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=8', '-an', ...codec,
    '-g', '50', '-force_key_frames', 'expr:gte(t,n_forced*2)',
    '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_type', type,
    ...(type === 'fmp4' ? ['-hls_fmp4_init_filename', 'init.mp4'] : []),
    '-hls_segment_filename', path.join(dir, `seg_%05d.${ext}`), path.join(dir, 'stream.m3u8'),
  ]); // prettier-ignore
  return { dir, ext };
}

const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast'];
const x265 = ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-tag:v', 'hvc1'];

let tsH264: Ladder;
let fmp4H264: Ladder;
let fmp4Hevc: Ladder;

beforeAll(async () => {
  root = await makeTempDir('tw-iframes-');
  [tsH264, fmp4H264, fmp4Hevc] = await Promise.all([
    makeLadder('ts-h264', x264, 'mpegts'),
    makeLadder('fmp4-h264', x264, 'fmp4'),
    makeLadder('fmp4-hevc', x265, 'fmp4'),
  ]);
});
afterAll(() => removeDir(root));

interface Probed {
  packets: number[];
  frames: Array<{ key_frame: number; pict_type: string }>;
}

/**
 * Packet sizes of the first video stream of `file` and, with `decode`, its decoded frames (ffprobe's complaints
 * about a cut-off fMP4 fragment are expected: the moof lists every sample of the segment).
 */
async function probeFrames(file: string, decode = true): Promise<Probed> {
  const entries = decode ? 'packet=size:frame=key_frame,pict_type' : 'packet=size,flags';
  const args = ['-v', 'quiet', '-select_streams', 'v:0', '-show_entries', entries, '-of', 'json', file];
  const { stdout } = await execFileP(FFPROBE, args, { maxBuffer: 16 * 1024 * 1024 });
  type Item = { type?: string; size?: string; flags?: string; key_frame?: number; pict_type?: string };
  const out = JSON.parse(stdout) as { packets_and_frames?: Item[]; packets?: Item[] };
  const items = out.packets_and_frames ?? out.packets?.map((p) => ({ ...p, type: 'packet' })) ?? [];
  return {
    packets: items
      .filter((x) => x.type === 'packet' && (decode || x.flags?.startsWith('K')))
      .map((x) => Number(x.size)),
    frames: items
      .filter((x) => x.type === 'frame')
      .map((x) => ({ key_frame: Number(x.key_frame), pict_type: String(x.pict_type) })),
  };
}

/** Size of each segment's keyframe as ffmpeg's own HLS demuxer reads the media playlist (one per segment). */
async function keyframeSizes(ladder: Ladder): Promise<number[]> {
  return (await probeFrames(path.join(ladder.dir, 'stream.m3u8'), false)).packets;
}

async function readRange(file: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * What a player fetches to show I-frame `seg`: the TS file's bytes before the range (its Media Initialization
 * Section, RFC 8216 4.3.3.6) or the EXT-X-MAP init section, then the range; `trim` bytes cut off its end.
 */
async function iframeFile(ladder: Ladder, seg: HLS.types.Segment, name: string, trim = 0): Promise<string> {
  const file = path.join(ladder.dir, seg.uri);
  const { offset, length } = seg.byterange;
  const init = seg.map ? await readFile(path.join(ladder.dir, seg.map.uri)) : await readRange(file, 0, offset);
  const out = path.join(root, `${name}.${ladder.ext === 'ts' ? 'ts' : 'mp4'}`);
  await writeFile(out, Buffer.concat([init, await readRange(file, offset, length - trim)]));
  return out;
}

function parseMedia(text: string): HLS.types.MediaPlaylist {
  const pl = HLS.parse(text);
  expect(pl.isMasterPlaylist).toBe(false);
  return pl as HLS.types.MediaPlaylist;
}

describe('buildIFramePlaylist on real ffmpeg ladders', () => {
  const cases: Array<[string, () => Ladder, number]> = [
    ['MPEG-TS H.264', () => tsH264, 4],
    ['fMP4 H.264', () => fmp4H264, 5],
    ['fMP4 HEVC (hvc1)', () => fmp4Hevc, 5],
  ];
  for (const [what, ladderOf, version] of cases) {
    it(`${what}: one range per segment, each exactly one whole decodable keyframe`, async () => {
      const ladder = ladderOf();
      const media = parseMedia(await readFile(path.join(ladder.dir, 'stream.m3u8'), 'utf8'));
      const built = await buildIFramePlaylist(ladder.dir, 'stream.m3u8');
      const iframes = parseMedia(built.text);

      expect(iframes.isIFrame).toBe(true);
      expect(iframes.version).toBe(version);
      expect(iframes.endlist).toBe(true);
      expect(iframes.playlistType).toBe('VOD');
      expect(iframes.targetDuration).toBe(media.targetDuration);
      expect(built.entries).toBe(media.segments.length);
      expect(iframes.segments.map((s) => s.uri)).toEqual(media.segments.map((s) => s.uri));
      const sum = (segs: HLS.types.Segment[]): number => segs.reduce((s, x) => s + x.duration, 0);
      expect(sum(iframes.segments)).toBeCloseTo(sum(media.segments), 6);
      for (const s of iframes.segments) expect(s.map?.uri).toBe(ladder.ext === 'ts' ? undefined : 'init.mp4');

      const expected = await keyframeSizes(ladder);
      expect(expected).toHaveLength(media.segments.length);
      const probed = await Promise.all(
        iframes.segments.map(async (seg, i) => probeFrames(await iframeFile(ladder, seg, `${what}-${i}`))),
      );
      probed.forEach(({ packets, frames }, i) => {
        expect(frames).toEqual([{ key_frame: 1, pict_type: 'I' }]);
        // The whole keyframe, no more: the one packet is as big as the demuxer finds it in the full segment.
        expect(packets).toEqual([expected[i]]);
      });

      // Tight: a range one TS packet (or one byte of fMP4 sample) shorter no longer holds the whole keyframe.
      const short = await iframeFile(ladder, iframes.segments[1]!, `${what}-short`, ladder.ext === 'ts' ? 188 : 1);
      const { packets } = await probeFrames(short);
      expect(packets).not.toContain(expected[1]);

      // Bandwidth: the I-frames fetched over their durations, far below the full rendition's.
      const fetched = iframes.segments.map((s) => s.byterange.length + (s.map ? 0 : s.byterange.offset));
      // Per segment over its own duration: HEVC fMP4 segments from ffmpeg 7.1+ are not all exactly 2 s.
      const perSegment = iframes.segments.map((s, i) => (fetched[i]! * 8) / s.duration);
      expect(built.peakBandwidth).toBeCloseTo(Math.max(...perSegment), 0);
      expect(built.averageBandwidth).toBeLessThanOrEqual(built.peakBandwidth);
      expect(built.averageBandwidth).toBeGreaterThan(0);
    });
  }

  it('follows the media playlist durations, including a short last segment', async () => {
    const dir = path.join(root, 'short-last');
    await mkdir(dir);
    await runFfmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=5', '-an', ...x264,
      '-g', '50', '-force_key_frames', 'expr:gte(t,n_forced*2)',
      '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', path.join(dir, 'stream.m3u8'),
    ]); // prettier-ignore
    const media = parseMedia(await readFile(path.join(dir, 'stream.m3u8'), 'utf8'));
    const iframes = parseMedia((await buildIFramePlaylist(dir, 'stream.m3u8')).text);
    expect(media.segments.map((s) => s.duration)).toEqual([2, 2, 1]);
    expect(iframes.segments.map((s) => s.duration)).toEqual([2, 2, 1]);
  });
});

describe('buildIFramePlaylist refuses segments without a keyframe where one must be', () => {
  /** A folder holding `segment` (and `init` for fMP4) and a media playlist listing it. */
  async function folder(name: string, segment: Buffer, ext: string, init?: string): Promise<string> {
    const dir = path.join(root, name);
    await mkdir(dir);
    await writeFile(path.join(dir, `seg_00000.${ext}`), segment);
    if (init) await copyFile(init, path.join(dir, 'init.mp4'));
    const map = init ? ['#EXT-X-MAP:URI="init.mp4"'] : [];
    const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', ...map, '#EXTINF:2.000000,'];
    await writeFile(path.join(dir, 'stream.m3u8'), [...lines, `seg_00000.${ext}`, '#EXT-X-ENDLIST', ''].join('\n'));
    return dir;
  }

  async function refusal(dir: string): Promise<StorageError> {
    const err = await buildIFramePlaylist(dir, 'stream.m3u8').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain(path.join(dir, 'seg_00000'));
    return err as StorageError;
  }

  it('a TS segment whose first video PES is a P-frame', async () => {
    // The segment without its opening keyframe: PAT/PMT kept, the packets of the first PES dropped.
    const iframes = parseMedia((await buildIFramePlaylist(tsH264.dir, 'stream.m3u8')).text);
    const { offset, length } = iframes.segments[0]!.byterange;
    const whole = await readFile(path.join(tsH264.dir, 'seg_00000.ts'));
    const cut = Buffer.concat([whole.subarray(0, offset), whole.subarray(offset + length)]);
    const err = await refusal(await folder('ts-p-frame', cut, 'ts'));
    expect(err.message).toMatch(/does not start with an I-frame: H\.264 slice type 0/);
  });

  it('an fMP4 segment whose first sample is flagged non-sync', async () => {
    const seg = await readFile(path.join(fmp4H264.dir, 'seg_00001.m4s'));
    // trun: size, 'trun', version/flags, sample_count, data_offset, first_sample_flags (ffmpeg writes flags 0x205).
    const trun = seg.indexOf('trun') - 4;
    expect(seg.readUInt32BE(trun + 8) & 0xffffff).toBe(0x205);
    seg.writeUInt32BE(seg.readUInt32BE(trun + 20) | 0x10000, trun + 20);
    const err = await refusal(await folder('fmp4-non-sync', seg, 'm4s', path.join(fmp4H264.dir, 'init.mp4')));
    expect(err.message).toMatch(/does not start with a sync sample/);
  });

  it('a TS segment that opens with an I-frame but without its SPS/PPS (x264 open GOP)', async () => {
    // With open GOP, forced keyframes after the first are non-IDR I pictures, and x264 repeats SPS/PPS on IDR only:
    // the second segment cannot be decoded alone, so its I-frame cannot be listed.
    const dir = path.join(root, 'open-gop');
    await mkdir(dir);
    await runFfmpeg([
      '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=4', '-an', ...x264,
      '-x264-params', 'open-gop=1:bframes=2', '-g', '50', '-force_key_frames', 'expr:gte(t,n_forced*2)',
      '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', path.join(dir, 'stream.m3u8'),
    ]); // prettier-ignore
    const err = await buildIFramePlaylist(dir, 'stream.m3u8').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as Error).message).toContain(path.join(dir, 'stream1.ts'));
    expect((err as Error).message).toMatch(/no SPS\/PPS before it, so it cannot be decoded alone/);
  });

  it('a TS segment with MPEG-2 video, and a file that is not a segment', async () => {
    const mpeg2 = path.join(root, 'mpeg2.ts');
    await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25:duration=1', '-c:v', 'mpeg2video', mpeg2]);
    const err = await refusal(await folder('ts-mpeg2', await readFile(mpeg2), 'ts'));
    expect(err.message).toMatch(/has no H\.264 or HEVC video stream/);

    const junk = await refusal(await folder('junk', Buffer.from('<html>not found</html>'), 'ts'));
    expect(junk.message).toMatch(/is not an MPEG-TS segment/);
  });
});

describe('a two-hour film', () => {
  it('300 segments: every range matches its source segment (time per segment is logged)', async () => {
    for (const ladder of [tsH264, fmp4H264]) {
      const dir = path.join(root, `many-${ladder.ext}`);
      await mkdir(dir);
      const small = parseMedia((await buildIFramePlaylist(ladder.dir, 'stream.m3u8')).text);
      const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-PLAYLIST-TYPE:VOD'];
      if (ladder.ext !== 'ts') {
        await link(path.join(ladder.dir, 'init.mp4'), path.join(dir, 'init.mp4'));
        lines.push('#EXT-X-MAP:URI="init.mp4"');
      }
      // Hard links to the real segments in turn: real bytes, little disk.
      for (let i = 0; i < 300; i++) {
        const name = `seg_${String(i).padStart(5, '0')}.${ladder.ext}`;
        await link(path.join(ladder.dir, small.segments[i % small.segments.length]!.uri), path.join(dir, name));
        lines.push('#EXTINF:2.000000,', name);
      }
      await writeFile(path.join(dir, 'stream.m3u8'), [...lines, '#EXT-X-ENDLIST', ''].join('\n'));

      const started = performance.now();
      const built = await buildIFramePlaylist(dir, 'stream.m3u8');
      const ms = performance.now() - started;
      console.info(
        `I-frame playlist, ${ladder.ext}: 300 segments in ${ms.toFixed(0)} ms (${(ms / 300).toFixed(2)} ms each)`,
      );

      const ranges = parseMedia(built.text).segments.map((s) => s.byterange);
      expect(ranges).toHaveLength(300);
      ranges.forEach((r, i) => expect(r).toEqual(small.segments[i % small.segments.length]!.byterange));
    }
  });
});
