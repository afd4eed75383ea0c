/**
 * #EXT-X-MEDIA labels for audio and subtitle renditions: readable unique names, the DEFAULT/AUTOSELECT/FORCED
 * rules players enforce, Apple's accessibility characteristics, and names safe inside an HLS quoted-string.
 */
import { describe, expect, it } from 'vitest';
import type { StreamDisposition, TrackLabel as PlanTrackLabel } from '../../../src/transcode/types.js';
import {
  DESCRIBES_MUSIC,
  DESCRIBES_VIDEO,
  TRANSCRIBES_DIALOG,
  hlsQuotedStringSafe,
  labelAudioTracks,
  labelSubtitleTracks,
  type AudioTrackTags,
  type Disposition,
  type SubtitleTrackTags,
  type TrackLabel,
} from '../../../src/media/track-labels.js';

const plain: Disposition = {
  default: false,
  forced: false,
  comment: false,
  hearingImpaired: false,
  visualImpaired: false,
  descriptions: false,
};
const d = (flags: Partial<Disposition> = {}): Disposition => ({ ...plain, ...flags });
const audio = (language: string | undefined, channels: number, flags: Partial<Disposition> = {}, title?: string) =>
  ({ language, channels, title, disposition: d(flags) }) satisfies AudioTrackTags;
const sub = (language: string | undefined, flags: Partial<Disposition> = {}, title?: string, codec?: string) =>
  ({ language, title, codec, disposition: d(flags) }) satisfies SubtitleTrackTags;

/** The invariants every list must hold, whatever the input. */
function expectWellFormed(labels: TrackLabel[]): void {
  const names = labels.map((l) => l.name.toLowerCase());
  expect(new Set(names).size).toBe(names.length);
  for (const l of labels) {
    expect(l.name).not.toBe('');
    // eslint-disable-next-line no-control-regex -- asserting that no control character got through
    expect(l.name).not.toMatch(/["\u0000-\u001f]/);
    if (l.isDefault) expect(l.autoselect).toBe(true);
  }
  expect(labels.filter((l) => l.isDefault).length).toBeLessThanOrEqual(1);
}

describe('copied shapes', () => {
  it('are interchangeable with the plan model', () => {
    const fromPlan: StreamDisposition = d({ comment: true });
    const mine: Disposition = fromPlan;
    const label: PlanTrackLabel = labelAudioTracks([{ channels: 2, disposition: mine }])[0]!;
    expect(label.name).toBe('Audio 1 (Commentary)');
  });
});

describe('labelAudioTracks', () => {
  it('labels the issue example: English 5.1 default, French stereo, an English commentary', () => {
    const labels = labelAudioTracks([
      audio('eng', 6, { default: true }),
      audio('fre', 2),
      audio('eng', 2, { comment: true }),
    ]);
    expect(labels).toEqual([
      { language: 'en', name: 'English', isDefault: true, autoselect: true, forced: false, characteristics: [] },
      { language: 'fr', name: 'Français', isDefault: false, autoselect: true, forced: false, characteristics: [] },
      {
        language: 'en',
        name: 'English (Commentary)',
        isDefault: false,
        autoselect: false,
        forced: false,
        characteristics: [],
      },
    ]);
  });

  it('keeps a meaningful title and drops one that only names the encoding', () => {
    const names = labelAudioTracks([
      audio('eng', 6, {}, '  English "Theatrical"  Mix '),
      audio('eng', 6, {}, 'Surround 5.1'),
      audio('fre', 2, {}, 'Stereo'),
      audio('ger', 8, {}, 'DTS-HD MA 7.1'),
      audio('spa', 6, {}, 'AC3 5.1 640kbps'),
      audio('ita', 2, {}, 'Track 1'),
      audio('jpn', 6, {}, 'E-AC-3 (Dolby Digital Plus)'),
      audio('kor', 2, {}, '   '),
    ]).map((l) => l.name);
    expect(names).toEqual([
      'English Theatrical Mix',
      'English',
      'Français',
      'Deutsch',
      'Español',
      'Italiano',
      '日本語',
      '한국어',
    ]);
  });

  it('adds the commentary and description suffixes only where the title does not say so', () => {
    const labels = labelAudioTracks([
      audio('eng', 2, { default: true }),
      audio('eng', 2, { comment: true }, "Director's Commentary"),
      audio('eng', 2, { comment: true }, 'Cast'),
      audio('eng', 2, { descriptions: true }),
      audio('fre', 2, { visualImpaired: true }, 'Audiodescription'),
    ]);
    expect(labels.map((l) => l.name)).toEqual([
      'English',
      "Director's Commentary",
      'Cast (Commentary)',
      'English (Audio Description)',
      'Audiodescription',
    ]);
    // Commentary is never auto-selected; audio description is (Apple 2.13: players pick it only for viewers who
    // turned descriptions on), and its CHARACTERISTICS tell it apart from the main track.
    expect(labels.map((l) => l.autoselect)).toEqual([true, false, false, true, true]);
    expect(labels.map((l) => l.characteristics)).toEqual([[], [], [], [DESCRIBES_VIDEO], [DESCRIBES_VIDEO]]);
    expectWellFormed(labels);
  });

  it('tells same-language tracks apart by layout first, then by number', () => {
    const names = labelAudioTracks([
      audio('eng', 6, { default: true }),
      audio('eng', 2),
      audio('eng', 2),
      audio('fre', 8),
      audio('FRE', 8),
    ]).map((l) => l.name);
    expect(names).toEqual(['English 5.1', 'English Stereo', 'English Stereo 2', 'Français', 'Français 2']);
  });

  it('keeps names unique case-insensitively, even against a title that looks like a generated name', () => {
    const labels = labelAudioTracks([
      audio(undefined, 2, {}, 'Main'),
      audio(undefined, 2, {}, 'MAIN'),
      audio(undefined, 2, {}, 'main 2'),
      audio(undefined, 2),
      audio('und', 2),
    ]);
    expect(labels.map((l) => l.name)).toEqual(['Main', 'MAIN 2', 'main 2 2', 'Audio 4', 'Audio 5']);
    expect(labels.map((l) => l.language)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(labels.every((l) => !('language' in l))).toBe(true);
    expectWellFormed(labels);
  });

  it('marks exactly one default: the source default that is no commentary, else the first main track', () => {
    const defaults = (tracks: AudioTrackTags[]) => labelAudioTracks(tracks).map((l) => l.isDefault);
    expect(defaults([audio('eng', 2), audio('fre', 2, { default: true })])).toEqual([false, true]);
    // a commentary marked default does not win over the film's own sound
    expect(defaults([audio('eng', 2, { default: true, comment: true }), audio('fre', 2)])).toEqual([false, true]);
    expect(
      defaults([audio('eng', 2, { comment: true }), audio('eng', 2, { descriptions: true }), audio('fre', 2)]),
    ).toEqual([false, false, true]);
    // no default marked: the first main track
    expect(defaults([audio('eng', 2), audio('fre', 2)])).toEqual([true, false]);
    // two marked default: the first
    expect(defaults([audio('eng', 2, { default: true }), audio('fre', 2, { default: true })])).toEqual([true, false]);
    // only commentary: the first, and it is then auto-selectable (DEFAULT=YES requires AUTOSELECT=YES)
    const only = labelAudioTracks([audio('eng', 2, { comment: true }), audio('eng', 2, { comment: true })]);
    expect(only.map((l) => [l.isDefault, l.autoselect])).toEqual([
      [true, true],
      [false, false],
    ]);
    expect(labelAudioTracks([])).toEqual([]);
  });

  it('auto-selects only one of two tracks a player cannot tell apart (same language, no characteristics)', () => {
    const labels = labelAudioTracks([audio('eng', 2), audio('eng', 6, { default: true }), audio('fre', 2)]);
    expect(labels.map((l) => [l.isDefault, l.autoselect])).toEqual([
      [false, false],
      [true, true],
      [false, true],
    ]);
  });

  it('never sets forced on audio', () => {
    expect(labelAudioTracks([audio('eng', 2, { forced: true })])[0]!.forced).toBe(false);
  });
});

describe('labelSubtitleTracks', () => {
  it('labels the issue example: English, French forced, a German sidecar', () => {
    const labels = labelSubtitleTracks([sub('eng', {}, undefined, 'subrip'), sub('fre', { forced: true }), sub('de')]);
    expect(labels).toEqual([
      { language: 'en', name: 'English', isDefault: false, autoselect: true, forced: false, characteristics: [] },
      {
        language: 'fr',
        name: 'Français (Forced)',
        isDefault: false,
        autoselect: true,
        forced: true,
        characteristics: [],
      },
      { language: 'de', name: 'Deutsch', isDefault: false, autoselect: true, forced: false, characteristics: [] },
    ]);
  });

  it('marks hearing-impaired tracks with both SDH characteristics and a suffix the title lacks', () => {
    const labels = labelSubtitleTracks([
      sub('eng', { hearingImpaired: true }),
      sub('eng', { hearingImpaired: true }, 'English SDH'),
      sub('eng', { forced: true }, 'Foreign parts'),
      sub('eng', { forced: true, hearingImpaired: true }),
    ]);
    expect(labels.map((l) => l.name)).toEqual([
      'English (SDH)',
      'English SDH',
      'Foreign parts',
      'English (Forced) (SDH)',
    ]);
    expect(labels[0]!.characteristics).toEqual([TRANSCRIBES_DIALOG, DESCRIBES_MUSIC]);
    expect(labels[2]!.characteristics).toEqual([]);
    expectWellFormed(labels);
  });

  it('takes DEFAULT only from the source, at most once', () => {
    const defaults = (tracks: SubtitleTrackTags[]) => labelSubtitleTracks(tracks).map((l) => l.isDefault);
    expect(defaults([sub('eng'), sub('fre')])).toEqual([false, false]);
    expect(defaults([sub('eng'), sub('fre', { default: true }), sub('de', { default: true })])).toEqual([
      false,
      true,
      false,
    ]);
  });

  it('ignores titles that only name the format or the codec, and numbers unknown tracks', () => {
    const labels = labelSubtitleTracks([
      sub('eng', {}, 'SRT'),
      sub('fre', {}, 'SubStation Alpha', 'ass'),
      sub('ger', {}, 'hdmv_pgs_subtitle', 'hdmv_pgs_subtitle'),
      sub(undefined, {}, 'Subtitles 3'),
      sub(undefined),
      sub('eng', {}, 'Signs & Songs'),
    ]);
    expect(labels.map((l) => l.name)).toEqual([
      'English',
      'SubStation Alpha',
      'Deutsch',
      'Subtitles 4',
      'Subtitles 5',
      'Signs & Songs',
    ]);
    expectWellFormed(labels);
  });
});

describe('hlsQuotedStringSafe', () => {
  it('removes what an HLS quoted-string may not hold', () => {
    expect(hlsQuotedStringSafe(' Say "hi"\r\nnow\t\u0000\u0085\u2028! ')).toBe('Say hi now !');
    expect(hlsQuotedStringSafe('"""')).toBe('');
  });

  it('caps the length without splitting a character', () => {
    const long = '日本語🎬'.repeat(50);
    const capped = hlsQuotedStringSafe(long);
    expect(Array.from(capped)).toHaveLength(100);
    expect(capped.endsWith('🎬')).toBe(true);
    expect(hlsQuotedStringSafe('abc', 2)).toBe('ab');
  });

  it('keeps labels safe however hostile the title', () => {
    const hostile = 'x"\n#EXT-X-ENDLIST\r\n"'.repeat(10);
    const [a] = labelAudioTracks([audio('eng', 2, {}, hostile)]);
    const [s] = labelSubtitleTracks([sub('eng', {}, hostile)]);
    for (const l of [a!, s!]) {
      expect(l.name).not.toMatch(/["\r\n]/);
      expect(l.name.length).toBeLessThanOrEqual(100);
    }
  });
});

describe('labelAudioTracks: layouts in titles', () => {
  it('drops a trailing layout from a title (the name serves the stereo and the surround group alike)', () => {
    const names = labelAudioTracks([
      { language: 'eng', title: 'English 5.1', channels: 6, disposition: d({ default: true }) },
      { language: 'fre', title: 'Français (Stereo)', channels: 2, disposition: d() },
      { language: 'ger', title: 'Deutsch - Surround 7.1', channels: 8, disposition: d() },
      { language: 'spa', title: 'Castellano', channels: 2, disposition: d() },
    ]).map((l) => l.name);
    expect(names).toEqual(['English', 'Français', 'Deutsch', 'Castellano']);
  });
});
