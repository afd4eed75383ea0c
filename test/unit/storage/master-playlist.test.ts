import HLS from 'hls-parser';
import { describe, expect, it } from 'vitest';
import {
  avcCodecFromBytes,
  avcCodecString,
  buildMasterPlaylist,
  hevcCodecString,
  measureBitrates,
} from '../../../src/storage/master-playlist.js';

describe('buildMasterPlaylist', () => {
  const text = buildMasterPlaylist(
    [
      {
        uri: '480p/stream.m3u8',
        bandwidth: 900_000.4,
        averageBandwidth: 800_000,
        width: 854,
        height: 480,
        frameRate: 25,
        codecs: ['avc1.64001E', 'mp4a.40.2'],
        audioGroup: 'aac-128k',
        subtitlesGroup: 'subs',
      },
      {
        uri: '1080p/stream.m3u8',
        bandwidth: 5_500_000,
        averageBandwidth: 5_000_000,
        width: 1920,
        height: 1080,
        frameRate: 29.97,
        codecs: ['avc1.640028', 'mp4a.40.2'],
        audioGroup: 'aac-128k',
        subtitlesGroup: 'subs',
      },
    ],
    {
      version: 6,
      independentSegments: true,
      media: [
        {
          type: 'AUDIO',
          groupId: 'aac-128k',
          name: 'English',
          language: 'en',
          isDefault: true,
          autoselect: true,
          channels: '2',
          uri: 'index_tracks/a0/stream.m3u8',
        },
        {
          type: 'AUDIO',
          groupId: 'aac-128k',
          name: 'English (Audio Description)',
          language: 'en',
          isDefault: false,
          autoselect: true,
          characteristics: ['public.accessibility.describes-video'],
          channels: '2',
          uri: 'index_tracks/a1/stream.m3u8',
        },
        {
          type: 'SUBTITLES',
          groupId: 'subs',
          name: 'Français (Forced)',
          language: 'fr',
          isDefault: false,
          autoselect: true,
          forced: true,
          uri: 'index_tracks/s0/stream.m3u8',
        },
      ],
      iframes: [{ uri: '480p/iframes.m3u8', bandwidth: 120_000, width: 854, height: 480, codecs: ['avc1.64001E'] }],
    },
  );

  it('writes every attribute the HLS spec and players want, renditions first, highest bandwidth first', () => {
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:6',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac-128k",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="index_tracks/a0/stream.m3u8"',
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac-128k",NAME="English (Audio Description)",LANGUAGE="en",DEFAULT=NO,AUTOSELECT=YES,CHARACTERISTICS="public.accessibility.describes-video",CHANNELS="2",URI="index_tracks/a1/stream.m3u8"',
        '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Français (Forced)",LANGUAGE="fr",DEFAULT=NO,AUTOSELECT=YES,FORCED=YES,URI="index_tracks/s0/stream.m3u8"',
        '#EXT-X-STREAM-INF:BANDWIDTH=5500000,AVERAGE-BANDWIDTH=5000000,RESOLUTION=1920x1080,FRAME-RATE=29.970,CODECS="avc1.640028,mp4a.40.2",AUDIO="aac-128k",SUBTITLES="subs",CLOSED-CAPTIONS=NONE',
        '1080p/stream.m3u8',
        '#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,RESOLUTION=854x480,FRAME-RATE=25.000,CODECS="avc1.64001E,mp4a.40.2",AUDIO="aac-128k",SUBTITLES="subs",CLOSED-CAPTIONS=NONE',
        '480p/stream.m3u8',
        '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=120000,RESOLUTION=854x480,CODECS="avc1.64001E",URI="480p/iframes.m3u8"',
        '',
      ].join('\n'),
    );
  });

  it('is read back by a maintained HLS parser with the same values', () => {
    const pl = HLS.parse(text) as HLS.types.MasterPlaylist;
    expect(pl.isMasterPlaylist).toBe(true);
    const normal = pl.variants.filter((v) => !v.isIFrameOnly);
    expect(normal.map((v) => [v.uri, v.bandwidth, v.averageBandwidth, v.resolution, v.frameRate, v.codecs])).toEqual([
      ['1080p/stream.m3u8', 5_500_000, 5_000_000, { width: 1920, height: 1080 }, 29.97, 'avc1.640028,mp4a.40.2'],
      ['480p/stream.m3u8', 900_000, 800_000, { width: 854, height: 480 }, 25, 'avc1.64001E,mp4a.40.2'],
    ]);
    expect(normal[0]!.audio.map((a) => [a.name, a.language, a.isDefault])).toEqual([
      ['English', 'en', true],
      ['English (Audio Description)', 'en', false],
    ]);
    expect(normal[0]!.subtitles.map((a) => [a.name, a.forced])).toEqual([['Français (Forced)', true]]);
    expect(pl.variants.filter((v) => v.isIFrameOnly).map((v) => v.uri)).toEqual(['480p/iframes.m3u8']);
  });
});

describe('codec strings', () => {
  it('derives avc1 strings from ffprobe profile names and levels', () => {
    expect(avcCodecString('High', 40)).toBe('avc1.640028');
    expect(avcCodecString('Main', 31)).toBe('avc1.4D401F');
    expect(avcCodecString('Constrained Baseline', 30)).toBe('avc1.42E01E');
    expect(avcCodecString(undefined, undefined)).toBe('avc1.640028');
  });
  it('derives hvc1 strings', () => {
    expect(hevcCodecString('Main', 120)).toBe('hvc1.1.6.L120.B0');
    expect(hevcCodecString('Main 10', 153)).toBe('hvc1.2.4.L153.B0');
  });
});

describe('measureBitrates', () => {
  it('takes the peak over full segments and ignores a short final stub', () => {
    const { peak, average } = measureBitrates(
      [
        { bytes: 1_000_000, durationSec: 4 }, // 2 Mb/s
        { bytes: 1_500_000, durationSec: 4 }, // 3 Mb/s
        { bytes: 200_000, durationSec: 0.2 }, // 8 Mb/s stub, ignored for the peak
      ],
      4,
    );
    expect(peak).toBe(3_000_000);
    expect(average).toBeCloseTo((2_700_000 * 8) / 8.2, 3);
  });
  it('never reports a peak below the average and uses all segments when every one is short', () => {
    const r = measureBitrates([{ bytes: 1000, durationSec: 1 }], 6, 5000);
    expect(r.average).toBe(48_000);
    expect(r.peak).toBe(48_000);
  });
});

describe('avcCodecFromBytes', () => {
  it('reads profile, constraint flags and level from an fMP4 avcC box', () => {
    const box = Buffer.from([0, 0, 0, 0x20, 0x61, 0x76, 0x63, 0x43, 1, 0x64, 0x00, 0x28, 0xff, 0xe1]);
    expect(avcCodecFromBytes(Buffer.concat([Buffer.alloc(40, 7), box]))).toBe('avc1.640028');
  });
  it('reads them from the first SPS NAL unit of an MPEG-TS segment', () => {
    // TS packet bytes, an access unit delimiter (type 9), then the SPS (0x67) of a Constrained Baseline 3.0 stream.
    const ts = Buffer.from([0x47, 0x41, 0, 0x10, 0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xd9]);
    expect(avcCodecFromBytes(ts)).toBe('avc1.42C01E');
  });
  it('returns undefined when there is no H.264 parameter set', () => {
    expect(avcCodecFromBytes(Buffer.from([0, 0, 1, 0x40, 1, 0x0c, 0, 0, 1, 0x06, 5]))).toBeUndefined();
  });
});
