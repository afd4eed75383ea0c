/**
 * The byte paths ffmpeg's own output rarely takes (webvtt-timing.test.ts covers what it does write): a PES header
 * split over two TS packets, 33-bit wraps, 64-bit tfdt, signed composition offsets, tfhd/trex default durations,
 * and both readings of an edit list.
 */
import { describe, expect, it } from 'vitest';
import { earliestPts, fmp4VideoTimes, tsVideoTimes } from '../../../src/storage/media-start-time.js';

const u8 = (...parts: Array<number[] | Uint8Array>) => Uint8Array.from(parts.flatMap((p) => [...p]));
const be32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const be64 = (n: number) => [...be32(Math.floor(n / 2 ** 32)), ...be32(n % 2 ** 32)];

// ---------------------------------------------------------------- MPEG-TS

/** One 188-byte packet: header, optional adaptation field of `afLen` bytes (stuffing), payload padded with 0xff. */
function tsPacket(pid: number, start: boolean, payload: number[], afLen = 0): number[] {
  const header = [0x47, (start ? 0x40 : 0) | (pid >> 8), pid & 255, afLen ? 0x30 : 0x10];
  const af = afLen ? [afLen, 0, ...Array<number>(afLen - 1).fill(0xff)] : [];
  const body = [...header, ...af, ...payload];
  if (body.length > 188) throw new Error('payload too long');
  // Stuffing goes in the adaptation field in real streams; trailing 0xff is fine for a PES we only read the head of.
  return [...body, ...Array<number>(188 - body.length).fill(0xff)];
}

function psi(tableId: number, body: number[]): number[] {
  const len = body.length + 4 + 5; // after section_length: 5 bytes of ids/versions, body, CRC
  return [0, tableId, 0xb0 | (len >> 8), len & 255, 0, 1, 0xc1, 0, 0, ...body, 0, 0, 0, 0];
}

const pat = () => tsPacket(0, true, psi(0x00, [0, 1, 0xe0 | 0x10, 0x00])); // program 1 -> PMT PID 0x1000
const pmt = (videoPid: number) =>
  tsPacket(0x1000, true, psi(0x02, [0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe0 | (videoPid >> 8), videoPid & 255, 0xf0, 0x00]));

function timestamp(prefix: number, t: number): number[] {
  const hi = Math.floor(t / 2 ** 30) & 7;
  const mid = Math.floor(t / 2 ** 15) & 0x7fff;
  const lo = t & 0x7fff;
  return [(prefix << 4) | (hi << 1) | 1, mid >> 7, ((mid & 0x7f) << 1) | 1, lo >> 7, ((lo & 0x7f) << 1) | 1];
}

const pesHeader = (pts: number, dts?: number) =>
  dts === undefined
    ? [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, ...timestamp(2, pts)]
    : [0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10, ...timestamp(3, pts), ...timestamp(1, dts)];

describe('tsVideoTimes', () => {
  it('reads PTS and DTS of each video PES, also a header split over two packets by a long adaptation field', () => {
    const head = pesHeader(133_200, 126_000);
    const stream = u8(
      pat(),
      pmt(0x100),
      tsPacket(0x100, true, head),
      tsPacket(0x101, true, pesHeader(1)), // audio: not the video PID
      tsPacket(0x100, true, head.slice(0, 6), 177),
      tsPacket(
        0x100,
        false,
        head.slice(6).map((b, i) => (i >= 3 && i < 8 ? [...timestamp(3, 140_400)][i - 3]! : b)),
      ),
      tsPacket(0x100, true, pesHeader(2 ** 33 - 3600)), // PTS only, 40 ms before the wrap
    );
    expect(tsVideoTimes(stream)).toEqual([
      { pts90k: 133_200, dts90k: 126_000 },
      { pts90k: 140_400, dts90k: 126_000 },
      { pts90k: 2 ** 33 - 3600, dts90k: 2 ** 33 - 3600 },
    ]);
  });

  it('finds nothing in bytes that are not a transport stream', () => {
    expect(tsVideoTimes(new Uint8Array(1000))).toEqual([]);
    expect(tsVideoTimes(u8(pat(), pmt(0x100)).subarray(0, 300))).toEqual([]);
  });
});

describe('earliestPts', () => {
  it('takes the 33-bit wrap into account', () => {
    const s = (pts90k: number) => ({ pts90k, dts90k: pts90k });
    expect(earliestPts([s(300), s(100), s(200)])).toBe(100);
    expect(earliestPts([s(100), s(2 ** 33 - 50)])).toBe(-50);
    expect(earliestPts([])).toBeUndefined();
  });
});

// ---------------------------------------------------------------- ISO BMFF

const box = (type: string, ...body: Array<number[] | Uint8Array>) => {
  const payload = u8(...body);
  return u8(
    be32(8 + payload.length),
    [...type].map((c) => c.charCodeAt(0)),
    payload,
  );
};
const full = (type: string, version: number, flags: number, ...body: Array<number[] | Uint8Array>) =>
  box(type, [version, (flags >> 16) & 255, (flags >> 8) & 255, flags & 255], ...body);

function init(opts: { timescale: number; edits?: Array<[number, number]>; trexDuration?: number }): Uint8Array {
  const videoTrak = box(
    'trak',
    full('tkhd', 0, 3, be32(0), be32(0), be32(1), Array<number>(68).fill(0)),
    ...(opts.edits
      ? [
          box(
            'edts',
            full(
              'elst',
              0,
              0,
              be32(opts.edits.length),
              ...opts.edits.map(([d, m]) => [...be32(d), ...be32(m >>> 0), 0, 1, 0, 0]),
            ),
          ),
        ]
      : []),
    box(
      'mdia',
      full('mdhd', 0, 0, be32(0), be32(0), be32(opts.timescale), be32(0), [0, 0, 0, 0]),
      full(
        'hdlr',
        0,
        0,
        be32(0),
        [...'vide'].map((c) => c.charCodeAt(0)),
        Array<number>(13).fill(0),
      ),
    ),
  );
  const soundTrak = box(
    'trak',
    full('tkhd', 0, 3, be32(0), be32(0), be32(2), Array<number>(68).fill(0)),
    box(
      'mdia',
      full('mdhd', 0, 0, be32(0), be32(0), be32(48_000), be32(0), [0, 0, 0, 0]),
      full(
        'hdlr',
        0,
        0,
        be32(0),
        [...'soun'].map((c) => c.charCodeAt(0)),
      ),
    ),
  );
  const trex = full('trex', 0, 0, be32(1), be32(1), be32(opts.trexDuration ?? 0), be32(0), be32(0));
  return u8(
    box(
      'ftyp',
      [...'iso6'].map((c) => c.charCodeAt(0)),
    ),
    box(
      'moov',
      full('mvhd', 0, 0, be32(0), be32(0), be32(1000), Array<number>(84).fill(0)),
      soundTrak,
      videoTrak,
      box('mvex', trex),
    ),
  );
}

/** A moof for track 1: tfdt (64-bit), trun version 1 with per-sample duration and signed composition offsets. */
function moof(tfdt: number, samples: Array<[number | undefined, number]>, tfhdDuration?: number): Uint8Array {
  const perSampleDuration = samples[0]![0] !== undefined;
  const flags = 0x001 | 0x800 | (perSampleDuration ? 0x100 : 0);
  const rows = samples.flatMap(([d, cts]) => [...(perSampleDuration ? be32(d!) : []), ...be32(cts >>> 0)]);
  const tfhd =
    tfhdDuration === undefined
      ? full('tfhd', 0, 0x020000, be32(1))
      : full('tfhd', 0, 0x020008, be32(1), be32(tfhdDuration));
  return box(
    'moof',
    box('traf', tfhd, full('tfdt', 1, 0, be64(tfdt)), full('trun', 1, flags, be32(samples.length), be32(0), rows)),
  );
}

describe('fmp4VideoTimes', () => {
  it('adds durations and signed composition offsets to a 64-bit tfdt, in the video track timescale', () => {
    const t = fmp4VideoTimes(
      init({ timescale: 12_800 }),
      u8(
        box('styp'),
        moof(2 ** 32 + 512, [
          [512, 1024],
          [512, -512],
          [512, 0],
        ]),
      ),
    );
    expect(t!.samples).toEqual([
      { pts90k: ((2 ** 32 + 1536) * 90_000) / 12_800, dts90k: ((2 ** 32 + 512) * 90_000) / 12_800 },
      { pts90k: ((2 ** 32 + 512) * 90_000) / 12_800, dts90k: ((2 ** 32 + 1024) * 90_000) / 12_800 },
      { pts90k: ((2 ** 32 + 1536) * 90_000) / 12_800, dts90k: ((2 ** 32 + 1536) * 90_000) / 12_800 },
    ]);
    expect(t!.editShiftChromium90k).toBe(0);
    expect(t!.editShiftIso90k).toBe(0);
  });

  it('takes the sample duration from tfhd, else from trex', () => {
    const times = (i: Uint8Array, m: Uint8Array) => fmp4VideoTimes(i, m)!.samples.map((s) => s.dts90k);
    expect(
      times(
        init({ timescale: 90_000 }),
        moof(
          0,
          [
            [undefined, 0],
            [undefined, 0],
          ],
          3000,
        ),
      ),
    ).toEqual([0, 3000]);
    expect(
      times(
        init({ timescale: 90_000, trexDuration: 3600 }),
        moof(0, [
          [undefined, 0],
          [undefined, 0],
        ]),
      ),
    ).toEqual([0, 3600]);
  });

  it('reads an edit list the way Chromium does (first edit only, empty ignored) and the way ISO does', () => {
    // ffmpeg, cfr with B-frames: an empty edit of 80 ms then the media from 1024/12800 s (80 ms): both agree.
    const agree = fmp4VideoTimes(
      init({
        timescale: 12_800,
        edits: [
          [80, -1],
          [0, 1024],
        ],
      }),
      moof(0, [[512, 1024]]),
    )!;
    expect([agree.editShiftChromium90k, agree.editShiftIso90k]).toEqual([0, 0]);
    // ffmpeg with -fps_mode vfr and a late first frame: a longer empty edit, which only ISO players apply.
    const apart = fmp4VideoTimes(
      init({
        timescale: 12_800,
        edits: [
          [240, -1],
          [0, 1024],
        ],
      }),
      moof(0, [[512, 1024]]),
    )!;
    expect([apart.editShiftChromium90k, apart.editShiftIso90k]).toEqual([0, 14_400]);
    // A single media edit (B-frame delay removed): both subtract it.
    const single = fmp4VideoTimes(init({ timescale: 12_800, edits: [[0, 1024]] }), moof(0, [[512, 1024]]))!;
    expect([single.editShiftChromium90k, single.editShiftIso90k]).toEqual([-7200, -7200]);
  });

  it('gives up on bytes without a video track or a moof', () => {
    expect(fmp4VideoTimes(new Uint8Array(64), new Uint8Array(64))).toBeUndefined();
    expect(fmp4VideoTimes(init({ timescale: 90_000 }), new Uint8Array(64))!.samples).toEqual([]);
  });
});
