import { describe, expect, it } from 'vitest';
import {
  APPLE_RULES,
  checkAppleRules,
  formatViolations,
  type AppleRuleId,
  type LadderFacts,
  type MediaPlaylistFacts,
} from '../../../src/storage/apple-rules.js';
import { languageTagProblem } from '../../../src/storage/apple-rules-renditions.js';

const SEG = [...Array<number>(9).fill(6.006), 3.946]; // 58 s, as ffmpeg writes a 29.97 fps ladder cut at 6 s

function media(uri: string, kind: MediaPlaylistFacts['kind'], peak: number, average: number): MediaPlaylistFacts {
  const subtitles = kind === 'subtitles';
  return {
    uri,
    kind,
    version: subtitles ? 3 : 7,
    targetDuration: 6,
    segmentDurations: kind === 'iframes' ? Array<number>(29).fill(2) : [...SEG],
    hasEndlist: true,
    playlistType: 'VOD',
    hasMap: !subtitles,
    hasByteRange: kind === 'iframes',
    iFramesOnly: kind === 'iframes',
    independentSegments: !subtitles,
    peakBitrate: peak,
    averageBitrate: average,
  };
}

/**
 * A ladder as issue 11 lays it out, and as it should pass: two H.264 rungs in fMP4, each offered with a stereo AAC
 * group (English default, French) and an E-AC-3 5.1 group, WebVTT subtitles (English, French forced), an I-frame
 * playlist per rung, CLOSED-CAPTIONS=NONE. BANDWIDTH = video peak + the group's largest rendition peak.
 */
function ladder(): LadderFacts {
  const variant = (uri: string, w: number, h: number, codec: string, group: 'aac' | 'ec3') => {
    const video = uri.startsWith('1080') ? { peak: 5_000_000, avg: 4_000_000 } : { peak: 3_000_000, avg: 2_500_000 };
    const audio = group === 'aac' ? { peak: 150_000, avg: 130_000 } : { peak: 400_000, avg: 384_000 };
    return {
      uri,
      codecs: [codec, group === 'aac' ? 'mp4a.40.2' : 'ec-3'],
      bandwidth: video.peak + audio.peak,
      averageBandwidth: video.avg + audio.avg,
      width: w,
      height: h,
      frameRate: 29.97,
      audioGroup: group,
      subtitlesGroup: 'subs',
      closedCaptions: 'NONE',
      videoCodec: codec,
    };
  };
  return {
    masterUri: 'master.m3u8',
    masterVersion: 7,
    segmentType: 'fmp4',
    independentSegments: true,
    segmentTime: 6,
    variants: [
      variant('1080p/stream.m3u8', 1920, 1080, 'avc1.640028', 'aac'),
      variant('720p/stream.m3u8', 1280, 720, 'avc1.64001f', 'aac'),
      variant('1080p/stream.m3u8', 1920, 1080, 'avc1.640028', 'ec3'),
      variant('720p/stream.m3u8', 1280, 720, 'avc1.64001f', 'ec3'),
    ],
    iframeVariants: [
      { uri: '1080p/iframes.m3u8', codecs: ['avc1.640028'], bandwidth: 580_000, width: 1920, height: 1080 },
      { uri: '720p/iframes.m3u8', codecs: ['avc1.64001f'], bandwidth: 375_000, width: 1280, height: 720 },
    ].map((v) => ({ ...v, videoCodec: v.codecs[0] })),
    mediaPlaylists: [
      media('1080p/stream.m3u8', 'video', 5_000_000, 4_000_000),
      media('720p/stream.m3u8', 'video', 3_000_000, 2_500_000),
      media('tracks/a0/stream.m3u8', 'audio', 140_000, 128_000),
      media('tracks/a1/stream.m3u8', 'audio', 150_000, 130_000),
      media('tracks/a2/stream.m3u8', 'audio', 400_000, 384_000),
      media('tracks/s0/stream.m3u8', 'subtitles', 600, 300),
      media('tracks/s1/stream.m3u8', 'subtitles', 200, 100),
      media('1080p/iframes.m3u8', 'iframes', 550_000, 300_000),
      media('720p/iframes.m3u8', 'iframes', 360_000, 200_000),
    ],
    audioGroups: [
      {
        id: 'aac',
        codec: 'mp4a.40.2',
        renditions: [
          {
            name: 'English',
            language: 'en',
            isDefault: true,
            autoselect: true,
            channels: '2',
            uri: 'tracks/a0/stream.m3u8',
          },
          {
            name: 'Français',
            language: 'fr',
            isDefault: false,
            autoselect: true,
            channels: '2',
            uri: 'tracks/a1/stream.m3u8',
          },
        ],
      },
      {
        id: 'ec3',
        codec: 'ec-3',
        renditions: [
          {
            name: 'English 5.1',
            language: 'en',
            isDefault: true,
            autoselect: true,
            channels: '6',
            uri: 'tracks/a2/stream.m3u8',
          },
        ],
      },
    ],
    subtitleGroups: [
      {
        id: 'subs',
        renditions: [
          {
            name: 'English',
            language: 'en',
            isDefault: false,
            autoselect: true,
            forced: false,
            uri: 'tracks/s0/stream.m3u8',
          },
          {
            name: 'Français (forcés)',
            language: 'fr',
            isDefault: false,
            autoselect: true,
            forced: true,
            uri: 'tracks/s1/stream.m3u8',
          },
        ],
      },
    ],
  };
}

const video1080 = (f: LadderFacts) => f.variants.filter((v) => v.uri === '1080p/stream.m3u8');
const playlist = (f: LadderFacts, uri: string) => f.mediaPlaylists.find((p) => p.uri === uri)!;
const aac = (f: LadderFacts) => f.audioGroups[0]!.renditions;
const subs = (f: LadderFacts) => f.subtitleGroups[0]!.renditions;

/** Sets the video codec of the 1080p rung everywhere it shows: the segments, CODECS, and its I-frame playlist. */
function setVideoCodec(f: LadderFacts, codec: string) {
  for (const v of video1080(f)) {
    v.videoCodec = codec;
    v.codecs[0] = codec;
  }
  f.iframeVariants[0]!.videoCodec = codec;
  f.iframeVariants[0]!.codecs = [codec];
}

/** Each rule with one change to the passing ladder that breaks it (and only it, unless `also` says otherwise). */
const CASES: Array<{ rule: AppleRuleId; what: string; mutate: (f: LadderFacts) => void; also?: AppleRuleId[] }> = [
  { rule: 'video-codec-string', what: 'legacy decimal avc1.100.40', mutate: (f) => setVideoCodec(f, 'avc1.100.40') },
  { rule: 'h264-profile', what: 'High 10 (profile_idc 110)', mutate: (f) => setVideoCodec(f, 'avc1.6e0028') },
  { rule: 'h264-level', what: 'level 5.0 declared', mutate: (f) => setVideoCodec(f, 'avc1.640032') },
  {
    rule: 'hevc-profile',
    what: 'HEVC RExt (profile 4)',
    mutate: (f) => setVideoCodec(f, 'hvc1.4.10.L120.B0'),
  },
  { rule: 'hevc-level', what: 'HEVC level 5.1', mutate: (f) => setVideoCodec(f, 'hvc1.2.4.L153.B0') },
  { rule: 'hevc-sample-entry', what: "'hev1'", mutate: (f) => setVideoCodec(f, 'hev1.2.4.L120.B0') },
  {
    rule: 'hevc-container',
    what: 'HEVC in TS',
    mutate: (f) => {
      setVideoCodec(f, 'hvc1.2.4.L120.B0');
      f.segmentType = 'ts';
      for (const p of f.mediaPlaylists) p.hasMap = false;
      for (const p of f.mediaPlaylists.filter((q) => q.kind !== 'iframes')) p.version = 3;
    },
  },
  { rule: 'level-below-content', what: '1080p30 declared 3.1', mutate: (f) => setVideoCodec(f, 'avc1.64001f') },
  { rule: 'codecs-present', what: 'no CODECS', mutate: (f) => (f.variants[1]!.codecs = []) },
  {
    rule: 'codecs-present',
    what: 'an unknown format',
    mutate: (f) => f.variants[1]!.codecs.push('xyz1.2'),
  },
  {
    rule: 'codecs-video',
    what: 'CODECS from the plan, not the segments',
    mutate: (f) => (f.variants[1]!.codecs[0] = 'avc1.640028'),
  },
  {
    rule: 'codecs-audio',
    what: 'the E-AC-3 variant lists AAC',
    mutate: (f) => (f.variants[2]!.codecs[1] = 'mp4a.40.2'),
  },
  {
    rule: 'codecs-audio',
    what: 'AAC listed on a video-only ladder',
    mutate: (f) => {
      f.variants = f.variants.filter((v) => v.audioGroup === 'aac');
      for (const v of f.variants) {
        v.audioGroup = undefined;
        v.bandwidth -= 150_000;
        v.averageBandwidth! -= 130_000;
      }
      f.audioGroups = [];
      f.mediaPlaylists = f.mediaPlaylists.filter((p) => p.kind !== 'audio');
    },
  },
  {
    rule: 'audio-group-unknown',
    what: 'AUDIO names no group',
    mutate: (f) => (f.variants[0]!.audioGroup = 'stereo'),
    also: ['audio-group-coverage'],
  },
  {
    rule: 'subtitles-group-unknown',
    what: 'SUBTITLES names no group',
    mutate: (f) => (f.variants[0]!.subtitlesGroup = 'subtitles'),
  },
  {
    rule: 'subtitles-group-missing',
    what: 'a surround variant without SUBTITLES',
    mutate: (f) => (f.variants[3]!.subtitlesGroup = undefined),
  },
  { rule: 'closed-captions', what: 'no CLOSED-CAPTIONS', mutate: (f) => (f.variants[0]!.closedCaptions = undefined) },
  {
    rule: 'closed-captions',
    what: 'NONE on some, a group on others',
    mutate: (f) => {
      f.closedCaptionGroups = ['cc'];
      f.variants[0]!.closedCaptions = 'cc';
    },
  },
  {
    rule: 'bandwidth-peak',
    what: 'BANDWIDTH of the video alone (audio peak left out)',
    mutate: (f) => (f.variants[0]!.bandwidth = 5_000_000),
  },
  {
    rule: 'bandwidth-peak',
    what: 'BANDWIDTH 15% above the peak',
    mutate: (f) => (f.variants[0]!.bandwidth = Math.round(5_150_000 * 1.15)),
  },
  {
    rule: 'bandwidth-peak',
    what: 'I-frame BANDWIDTH below its measured peak',
    mutate: (f) => (f.iframeVariants[0]!.bandwidth = 500_000),
  },
  {
    rule: 'average-bandwidth',
    what: 'AVERAGE-BANDWIDTH missing',
    mutate: (f) => (f.variants[0]!.averageBandwidth = undefined),
  },
  {
    rule: 'average-bandwidth',
    what: 'AVERAGE-BANDWIDTH the configured rate, 25% off',
    mutate: (f) => (f.variants[0]!.averageBandwidth = 5_500_000),
  },
  { rule: 'resolution', what: 'no RESOLUTION', mutate: (f) => (f.variants[1]!.width = undefined) },
  { rule: 'resolution', what: 'no I-frame RESOLUTION', mutate: (f) => (f.iframeVariants[1]!.height = undefined) },
  { rule: 'frame-rate', what: 'no FRAME-RATE', mutate: (f) => (f.variants[1]!.frameRate = undefined) },
  { rule: 'frame-rate', what: 'FRAME-RATE 29.97003', mutate: (f) => (f.variants[1]!.frameRate = 30000 / 1001) },
  {
    rule: 'frame-rate',
    what: '120 fps',
    mutate: (f) => {
      f.variants[1]!.frameRate = 120;
      f.variants[3]!.frameRate = 120;
    },
    also: ['level-below-content'],
  },
  {
    rule: 'video-range',
    what: 'a PQ rung without VIDEO-RANGE',
    mutate: (f) => (f.variants[1]!.transfer = 'pq'),
  },
  {
    rule: 'video-range',
    what: 'VIDEO-RANGE=HLG on an SDR rung',
    mutate: (f) => (f.variants[1]!.videoRange = 'HLG'),
  },
  {
    rule: 'independent-segments',
    what: 'in neither the master nor every video playlist',
    mutate: (f) => {
      f.independentSegments = false;
      playlist(f, '720p/stream.m3u8').independentSegments = false;
    },
  },
  {
    rule: 'master-version',
    what: 'version 3 with SUBTITLES and CLOSED-CAPTIONS',
    mutate: (f) => (f.masterVersion = 3),
  },
  {
    rule: 'audio-group-coverage',
    what: 'the 720p rung only with AAC',
    mutate: (f) => f.variants.splice(3, 1),
  },
  { rule: 'iframe-playlists', what: 'no I-frame playlist for 720p', mutate: (f) => f.iframeVariants.splice(1, 1) },
  {
    rule: 'playlist-missing',
    what: 'an audio rendition that was not staged',
    mutate: (f) => (f.mediaPlaylists = f.mediaPlaylists.filter((p) => p.uri !== 'tracks/a1/stream.m3u8')),
  },
  {
    rule: 'rendition-name-unique',
    what: 'two "English"',
    mutate: (f) => {
      aac(f)[1]!.name = 'English';
    },
  },
  { rule: 'rendition-default', what: 'two DEFAULT=YES', mutate: (f) => (aac(f)[1]!.isDefault = true) },
  {
    rule: 'rendition-default',
    what: 'DEFAULT=YES without AUTOSELECT',
    mutate: (f) => (aac(f)[0]!.autoselect = false),
  },
  {
    rule: 'rendition-autoselect-distinct',
    what: 'two auto-selected English tracks',
    mutate: (f) => aac(f).push({ ...aac(f)[0]!, name: 'English (dub 2)', isDefault: false }),
  },
  { rule: 'rendition-forced', what: 'FORCED on audio', mutate: (f) => (aac(f)[1]!.forced = true) },
  {
    rule: 'rendition-forced',
    what: 'forced subtitles not auto-selected',
    mutate: (f) => (subs(f)[1]!.autoselect = false),
  },
  { rule: 'rendition-language', what: 'an empty LANGUAGE', mutate: (f) => (aac(f)[1]!.language = '') },
  { rule: 'rendition-language', what: 'ISO 639-2/B "fre"', mutate: (f) => (aac(f)[1]!.language = 'fre') },
  { rule: 'rendition-language', what: 'malformed "en_US"', mutate: (f) => (subs(f)[0]!.language = 'en_US') },
  {
    rule: 'rendition-accessibility',
    what: 'audio description not auto-selected',
    mutate: (f) =>
      aac(f).push({
        ...aac(f)[0]!,
        name: 'English (Audio Description)',
        isDefault: false,
        autoselect: false,
        characteristics: ['public.accessibility.describes-video'],
      }),
  },
  {
    rule: 'rendition-accessibility',
    what: 'SDH marked with one characteristic only',
    mutate: (f) => (subs(f)[0]!.characteristics = ['public.accessibility.transcribes-spoken-dialog']),
  },
  { rule: 'audio-codec', what: 'Opus', mutate: (f) => (f.audioGroups[1]!.codec = 'opus'), also: ['codecs-audio'] },
  { rule: 'audio-channels', what: 'no CHANNELS', mutate: (f) => delete aac(f)[0]!.channels },
  {
    rule: 'stereo-aac',
    what: 'the AAC group carries 5.1',
    mutate: (f) => (aac(f)[1]!.channels = '6'),
  },
  {
    rule: 'target-duration',
    what: 'a 7.2 s segment under TARGETDURATION 6',
    mutate: (f) => {
      const p = playlist(f, '720p/stream.m3u8');
      p.segmentDurations[3] = 7.2;
      p.segmentDurations[4] = 4.812;
    },
  },
  {
    rule: 'target-duration',
    what: 'a 6.5 s segment (rounds to 7)',
    mutate: (f) => {
      const p = playlist(f, 'tracks/s0/stream.m3u8');
      p.segmentDurations[3] = 6.5;
      p.segmentDurations[4] = 5.512;
    },
  },
  {
    rule: 'target-duration-configured',
    what: '10 s segments for a 6 s plan (keyframes not on the boundaries)',
    mutate: (f) => {
      for (const p of f.mediaPlaylists.filter((q) => q.kind === 'video' || q.kind === 'audio')) {
        p.targetDuration = 10;
        p.segmentDurations = [10, 10, 10, 10, 10, 8];
      }
    },
  },
  {
    rule: 'target-duration-uniform',
    what: 'audio at 7 s, video at 6 s',
    mutate: (f) => (playlist(f, 'tracks/a2/stream.m3u8').targetDuration = 7),
  },
  {
    rule: 'same-duration',
    what: 'a French track 2 s short',
    mutate: (f) => (playlist(f, 'tracks/a1/stream.m3u8').segmentDurations[9] = 1.946),
  },
  { rule: 'endlist', what: 'no EXT-X-ENDLIST', mutate: (f) => (playlist(f, '720p/stream.m3u8').hasEndlist = false) },
  {
    rule: 'playlist-type-vod',
    what: 'no EXT-X-PLAYLIST-TYPE',
    mutate: (f) => delete playlist(f, 'tracks/s1/stream.m3u8').playlistType,
  },
  {
    rule: 'map-present',
    what: 'fMP4 audio without EXT-X-MAP',
    mutate: (f) => (playlist(f, 'tracks/a0/stream.m3u8').hasMap = false),
  },
  {
    rule: 'playlist-version',
    what: 'EXT-X-MAP at version 5',
    mutate: (f) => (playlist(f, '1080p/stream.m3u8').version = 5),
  },
  {
    rule: 'playlist-version',
    what: 'decimal EXTINF without EXT-X-VERSION',
    mutate: (f) => delete playlist(f, 'tracks/s0/stream.m3u8').version,
  },
  {
    rule: 'playlist-version',
    what: 'I-frame byte ranges at version 3',
    mutate: (f) => {
      const p = playlist(f, '720p/iframes.m3u8');
      p.version = 3;
      p.hasMap = true;
    },
  },
  {
    rule: 'iframes-only',
    what: 'an I-frame playlist without EXT-X-I-FRAMES-ONLY',
    mutate: (f) => (playlist(f, '720p/iframes.m3u8').iFramesOnly = false),
  },
];

describe('checkAppleRules', () => {
  it('passes a ladder that follows every rule', () => {
    expect(checkAppleRules(ladder())).toEqual([]);
  });

  it.each(CASES)('$rule fails on $what', ({ rule, mutate, also = [] }) => {
    const f = ladder();
    mutate(f);
    const vs = checkAppleRules(f);
    expect(vs.filter((v) => v.rule === rule).length).toBeGreaterThan(0);
    expect([...new Set(vs.map((v) => v.rule))].sort()).toEqual([rule, ...also].sort());
    for (const v of vs) expect(v.message.length).toBeGreaterThan(10);
  });

  it('shows every rule of the catalogue able to fail', () => {
    expect([...new Set(CASES.map((c) => c.rule))].sort()).toEqual(Object.keys(APPLE_RULES).sort());
  });

  it('names the rung, the level and the limit in a 4K H.264 failure, once for a rung listed per audio group', () => {
    const f = ladder();
    for (const v of video1080(f)) Object.assign(v, { width: 3840, height: 2160 });
    Object.assign(f.iframeVariants[0]!, { width: 3840, height: 2160 });
    setVideoCodec(f, 'avc1.640033');
    const vs = checkAppleRules(f);
    expect(vs).toEqual([
      {
        rule: 'h264-level',
        where: '1080p/stream.m3u8',
        message: 'H.264 level 5.1 (avc1.640033) is above 4.2',
        layer: 'media',
      },
      {
        rule: 'h264-level',
        where: '1080p/iframes.m3u8',
        message: 'H.264 level 5.1 (avc1.640033) is above 4.2',
        layer: 'media',
      },
    ]);
    expect(formatViolations(vs)).toMatch(/^h264-level \(1080p\/stream\.m3u8\): H\.264 level 5\.1 .*above 4\.2; /);
  });

  it('accepts HEVC Main10 5.0 High tier in fMP4 with hvc1, and a 4K30 HEVC rung', () => {
    const f = ladder();
    for (const v of video1080(f)) Object.assign(v, { width: 3840, height: 2160 });
    Object.assign(f.iframeVariants[0]!, { width: 3840, height: 2160 });
    setVideoCodec(f, 'hvc1.2.4.H150.90');
    expect(checkAppleRules(f)).toEqual([]);
  });

  it('takes a stricter or looser ceiling from the options', () => {
    const f = ladder();
    setVideoCodec(f, 'avc1.640032');
    expect(checkAppleRules(f, { limits: { h264MaxLevel: 5.2, hevcMaxLevel: 5.1, maxFrameRate: 60 } })).toEqual([]);
  });

  it('passes a video-only ladder and an audio-only ladder', () => {
    const videoOnly = ladder();
    videoOnly.variants = videoOnly.variants.filter((v) => v.audioGroup === 'aac');
    for (const v of videoOnly.variants) {
      v.audioGroup = undefined;
      v.codecs = [v.codecs[0]!];
      v.bandwidth -= 150_000;
      v.averageBandwidth! -= 130_000;
    }
    videoOnly.audioGroups = [];
    videoOnly.mediaPlaylists = videoOnly.mediaPlaylists.filter((p) => p.kind !== 'audio');
    expect(checkAppleRules(videoOnly)).toEqual([]);

    const audioOnly = ladder();
    audioOnly.variants = [
      {
        uri: 'tracks/a0/stream.m3u8',
        codecs: ['mp4a.40.2'],
        bandwidth: 150_000,
        averageBandwidth: 130_000,
        audioGroup: 'aac',
        closedCaptions: 'NONE',
      },
    ];
    audioOnly.iframeVariants = [];
    audioOnly.subtitleGroups = [];
    audioOnly.audioGroups.splice(1, 1);
    audioOnly.mediaPlaylists = audioOnly.mediaPlaylists.filter((p) => p.kind === 'audio' && !p.uri.includes('a2'));
    expect(checkAppleRules(audioOnly)).toEqual([]);
  });

  it('pairs AAC groups of different bitrates with their own rungs (coverage is per kind of group)', () => {
    const f = ladder();
    // A second stereo AAC group (64k) for the smaller rung only: the rung keeps a stereo AAC group and the 5.1 one.
    const low = { ...f.audioGroups[0]!, id: 'aac-64k' };
    f.audioGroups.push(low);
    const small = f.variants.find((v) => v.audioGroup === 'aac' && !v.uri.startsWith('1080'))!;
    small.audioGroup = 'aac-64k';
    expect(checkAppleRules(f).filter((v) => v.rule === 'audio-group-coverage')).toEqual([]);
  });

  it('accepts an MPEG-TS H.264 ladder without EXT-X-MAP at version 3', () => {
    const f = ladder();
    f.segmentType = 'ts';
    for (const p of f.mediaPlaylists) {
      p.hasMap = false;
      p.version = p.kind === 'iframes' ? 4 : 3;
    }
    expect(checkAppleRules(f)).toEqual([]);
  });
});

describe('languageTagProblem', () => {
  it.each(['en', 'fr', 'pt-BR', 'zh-Hant-TW', 'es-419', 'sr-Latn', 'de-CH-1901', 'und', 'x-klingon', 'gsw'])(
    'accepts %s',
    (tag) => expect(languageTagProblem(tag)).toBeNull(),
  );
  it.each(['', 'e', 'en_US', 'en-', 'fre', 'ger-DE', 'en--us', '12'])('refuses "%s"', (tag) =>
    expect(languageTagProblem(tag)).not.toBeNull(),
  );
});
