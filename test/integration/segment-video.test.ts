/**
 * readVideoParams (in-process SPS reading, used by the verification instead of one ffprobe per rendition) against
 * ffprobe's own answer, on segments and init sections produced by real ffmpeg at test time.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { avcCodecFromBytes } from '../../src/storage/master-playlist.js';
import { readVideoParams } from '../../src/storage/segment-video.js';
import { parseH264Sps, unescapeRbsp } from '../../src/storage/sps-parse.js';
import { makeTempDir, probeJson, removeDir, runFfmpeg } from '../helpers/media.js';

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('tw-segvideo-');
});
afterAll(() => removeDir(dir));

/** One second of lavfi video encoded with `args` into dir/name (the muxer follows the extension or -f). */
async function encode(name: string, size: string, args: string[]): Promise<string> {
  const out = path.join(dir, name);
  await runFfmpeg(['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=25:duration=1`, '-an', ...args, out]);
  return out;
}

async function ffprobeSize(file: string): Promise<{ width: number; height: number }> {
  const s = (await probeJson(file)).streams.find((x) => x.codec_type === 'video')!;
  return { width: Number(s.width), height: Number(s.height) };
}

const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast'];
const x265 = ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error'];

describe('readVideoParams on MPEG-TS segments agrees with ffprobe', () => {
  const cases: Array<[string, string, string[], RegExp]> = [
    ['h264 baseline', '320x180', x264, /^avc1\.42C00C$/],
    // Not a multiple of 16: the SPS crops the coded macroblocks.
    ['h264 cropped', '318x178', x264, /^avc1\.42C0/],
    // High profile with custom scaling matrices (skipped field by field), 4:2:2 10-bit, 4:4:4.
    ['h264 high + scaling lists', '318x178', [...x264, '-x264-params', 'cqm=jvt'], /^avc1\.6400/],
    ['h264 4:2:2 10-bit', '318x178', [...x264, '-pix_fmt', 'yuv422p10le'], /^avc1\.7A00/],
    ['h264 4:4:4', '320x180', [...x264, '-pix_fmt', 'yuv444p'], /^avc1\.F400/],
    // Interlaced: field-coded map units (frame_mbs_only_flag = 0).
    ['h264 interlaced', '320x180', [...x264, '-flags', '+ildct+ilme'], /^avc1\.4D/],
    ['hevc main, conformance window', '318x178', x265, /^hvc1\.1\.6\.L\d+\.[0-9A-F]{2}/],
    ['hevc main 10', '320x180', [...x265, '-pix_fmt', 'yuv420p10le'], /^hvc1\.2\.4\.L\d+\./],
  ];
  for (const [what, size, args, codec] of cases) {
    it(what, async () => {
      const file = await encode(`${what.replace(/\W+/g, '-')}.ts`, size, args);
      const params = readVideoParams(await readFile(file));
      expect(params).toBeDefined();
      expect({ width: params!.width, height: params!.height }).toEqual(await ffprobeSize(file));
      expect(params!.codec).toMatch(codec);
    });
  }

  it('the H.264 codec string is the SPS bytes, as the byte scan of the master playlist module reads them', async () => {
    const file = await encode('h264-high.ts', '320x180', ['-c:v', 'libx264', '-preset', 'veryfast']);
    const head = await readFile(file);
    expect(readVideoParams(head)?.codec).toBe(avcCodecFromBytes(head));
  });

  it('gives no answer (the caller asks ffprobe) for a stream it does not read', async () => {
    const file = await encode('mpeg2.ts', '320x180', ['-c:v', 'mpeg2video']);
    expect(readVideoParams(await readFile(file))).toBeUndefined();
    expect(readVideoParams(Buffer.from('not a segment at all'))).toBeUndefined();
  });
});

describe('readVideoParams on fMP4 init sections', () => {
  for (const [what, args, codec] of [
    ['h264 (avcC)', x264, /^avc1\.42C0/],
    ['hevc (hvcC)', [...x265, '-tag:v', 'hvc1'], /^hvc1\.1\.6\./],
  ] as const) {
    it(what, async () => {
      const out = path.join(dir, what.replace(/\W+/g, '-'));
      await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=318x178:rate=25:duration=1', '-an', ...args,
        '-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', '1', `${out}.m3u8`]); // prettier-ignore
      const init = path.join(dir, 'init.mp4');
      const params = readVideoParams(await readFile(init));
      expect(params).toMatchObject({ width: 318, height: 178 });
      expect(params!.codec).toMatch(codec);
      expect(await ffprobeSize(init)).toEqual({ width: 318, height: 178 });
    });
  }
});

describe('MPEG-TS demuxing', () => {
  /** 188-byte TS packets of `payload` on `pid` (the first one flagged as a unit start), continuity counters on. */
  function tsPackets(pid: number, payload: Buffer): Buffer[] {
    const packets: Buffer[] = [];
    for (let off = 0, cc = 0; off < payload.length; off += 184, cc = (cc + 1) & 15) {
      const chunk = payload.subarray(off, off + 184);
      const pkt = Buffer.alloc(188, 0xff);
      pkt[0] = 0x47;
      pkt[1] = (off === 0 ? 0x40 : 0) | (pid >> 8);
      pkt[2] = pid & 0xff;
      if (chunk.length === 184) {
        pkt[3] = 0x10 | cc;
        chunk.copy(pkt, 4);
      } else {
        // Short last packet: an adaptation field of stuffing bytes fills the gap.
        pkt[3] = 0x30 | cc;
        pkt[4] = 183 - chunk.length;
        if (pkt[4] > 0) pkt[5] = 0;
        chunk.copy(pkt, 188 - chunk.length);
      }
      packets.push(pkt);
    }
    return packets;
  }

  it('reads an SPS that straddles two TS packets', async () => {
    // A real SPS (318x178, High profile: cropping), from a raw H.264 stream.
    const raw = await readFile(
      await encode('raw.h264', '318x178', ['-c:v', 'libx264', '-preset', 'veryfast', '-f', 'h264']),
    );
    const spsAt = raw.findIndex(
      (_, i) => raw[i] === 0 && raw[i + 1] === 0 && raw[i + 2] === 1 && (raw[i + 3]! & 0x1f) === 7,
    );
    const spsEnd = raw.indexOf(Buffer.from([0, 0, 1]), spsAt + 3);
    const sps = raw.subarray(spsAt + 3, spsEnd);
    expect(parseH264Sps(sps)).toMatchObject({ width: 318, height: 178 });

    const pat = Buffer.from([0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00, 0, 0, 0, 0]);
    const pmt = Buffer.from([
      0x00, 0x02, 0xb0, 0x17, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe1, 0x00, 0xf0, 0x00,
      0x0f, 0xe1, 0x01, 0xf0, 0x00, // AAC audio on PID 0x101 first: the video stream is not always the first entry
      0x1b, 0xe1, 0x00, 0xf0, 0x00, // H.264 on PID 0x100
      0, 0, 0, 0,
    ]); // prettier-ignore
    // PES header (9 bytes + 5 of PTS), an access unit delimiter, then filler so the SPS starts 10 bytes before the
    // end of the first packet.
    const pesHeader = Buffer.from([0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1]);
    const aud = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
    const fillerLen = 184 - pesHeader.length - aud.length - 10 - 4;
    const filler = Buffer.concat([Buffer.from([0, 0, 1, 0x0c]), Buffer.alloc(fillerLen - 4, 0xff)]);
    const es = Buffer.concat([pesHeader, aud, filler, Buffer.from([0, 0, 0, 1]), sps, Buffer.from([0, 0, 1, 0x68])]);
    const ts = Buffer.concat([...tsPackets(0, pat), ...tsPackets(0x1000, pmt), ...tsPackets(0x100, es)]);
    expect(unescapeRbsp(Buffer.from([0, 0, 3, 1, 0, 0, 3]))).toEqual(new Uint8Array([0, 0, 1, 0, 0]));
    expect(readVideoParams(ts)).toEqual(parseH264Sps(sps));
  });
});
