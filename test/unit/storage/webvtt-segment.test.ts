import HLS from 'hls-parser';
import { describe, expect, it } from 'vitest';
import { cleanCueLines, formatVttTimestamp, parseVttTimestamp, parseWebVtt } from '../../../src/storage/webvtt-cues.js';
import {
  defaultSubtitleSegmentName,
  mpegtsAtLocalZero,
  segmentWebVtt,
  subtitleMediaPlaylist,
  timestampMapLine,
} from '../../../src/storage/webvtt-segment.js';

const vtt = (...blocks: string[]) => ['WEBVTT', '', ...blocks.flatMap((b) => [b, ''])].join('\n');
/** Cue blocks (timing line and text) of one segment file, header removed. */
const cuesOf = (segment: string) =>
  segment
    .split('\n\n')
    .slice(1)
    .map((c) => c.trimEnd())
    .filter(Boolean);

describe('WebVTT timestamps', () => {
  it('reads mm:ss.ttt, hh:mm:ss.ttt and hours past 99', () => {
    expect(parseVttTimestamp('01:02.003')).toBe(62_003);
    expect(parseVttTimestamp('01:00:00.000')).toBe(3_600_000);
    expect(parseVttTimestamp('123:59:59.999')).toBe(123 * 3_600_000 + 3_599_999);
    expect(parseVttTimestamp('00:00:01,500')).toBe(1500);
    for (const bad of ['1:02.003', '00:60.000', '00:01.5', 'aa:bb.ccc', ''])
      expect(parseVttTimestamp(bad)).toBeUndefined();
  });

  it('writes hh:mm:ss.ttt with at least two hour digits', () => {
    expect(formatVttTimestamp(0)).toBe('00:00:00.000');
    expect(formatVttTimestamp(3_723_004)).toBe('01:02:03.004');
    expect(formatVttTimestamp(100 * 3_600_000 + 1)).toBe('100:00:00.001');
  });
});

describe('parseWebVtt', () => {
  it('drops the BOM, CRLF line ends, NOTE/STYLE/REGION blocks and cue identifiers, and keeps cue settings', () => {
    const text =
      '\uFEFFWEBVTT - title\r\nKind: captions\r\n\r\nSTYLE\r\n::cue { color: red }\r\n\r\nREGION\r\nid:r1\r\n\r\n' +
      'NOTE a comment\r\nover two lines\r\n\r\ncue-7\r\n00:01.000 --> 00:02.500 line:10% align:start bogus:1\r\nHello\r\nthere\r\n';
    const { cues, warnings } = parseWebVtt(text);
    expect(warnings).toEqual([]);
    expect(cues).toEqual([{ startMs: 1000, endMs: 2500, settings: 'line:10% align:start', lines: ['Hello', 'there'] }]);
  });

  it('reads a lone CR as a line end too, and a cue right under the header', () => {
    expect(parseWebVtt('WEBVTT\r\r00:01.000 --> 00:02.000\rA\r').cues).toHaveLength(1);
    expect(
      parseWebVtt('WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n00:01.000 --> 00:02.000\nA').cues,
    ).toHaveLength(1);
  });

  it('skips what is not a cue with one warning per kind, keeps the rest', () => {
    const { cues, warnings } = parseWebVtt(
      vtt(
        '00:01.000 --> 00:02.000\nok 1',
        'garbage\nmore garbage',
        '00:0x.000 --> 00:04.000\nbad start',
        '00:05.000 --> 00:04.000\nbackwards',
        '00:06.000 --> 00:06.000\nzero length',
        '00:07.000 --> 00:08.000\n{\\an8}',
        '00:09.000 --> 00:10.000\nok 2',
      ),
    );
    expect(cues.map((c) => c.lines[0])).toEqual(['ok 1', 'ok 2']);
    expect(warnings).toEqual([
      '2 blocks that are not cues skipped (first: "garbage")',
      '2 cues that end before they start skipped (first: "00:05.000 --> 00:04.000")',
      '1 cues without text skipped (first: "00:07.000 --> 00:08.000")',
    ]);
  });

  it('starts a new cue at a timing line that follows text without a blank line', () => {
    const { cues } = parseWebVtt('WEBVTT\n\n00:01.000 --> 00:02.000\nA\n00:03.000 --> 00:04.000\nB\n');
    expect(cues.map((c) => [c.startMs, c.lines])).toEqual([
      [1000, ['A']],
      [3000, ['B']],
    ]);
  });

  it('warns about a missing WEBVTT line but still reads the cues; never throws on anything', () => {
    expect(parseWebVtt('00:01.000 --> 00:02.000\nA\n').warnings[0]).toMatch(/WEBVTT/);
    expect(parseWebVtt('00:01.000 --> 00:02.000\nA\n').cues).toHaveLength(1);
    for (const junk of ['', '\0\0\0', 'WEBVTT', '-->', '\n\n\n', 'WEBVTT\n\n-->\n-->\n']) {
      expect(() => parseWebVtt(junk)).not.toThrow();
      expect(parseWebVtt(junk).cues).toEqual([]);
    }
  });
});

describe('cleanCueLines', () => {
  it('keeps WebVTT markup and escapes what would break the file', () => {
    expect(cleanCueLines(['<b>Bold</b> and <i>it</i> <c.yellow>c</c> <v Bob>hi</v> <00:01.500>karaoke'])).toEqual([
      '<b>Bold</b> and <i>it</i> <c.yellow>c</c> <v Bob>hi</v> <00:01.500>karaoke',
    ]);
    expect(cleanCueLines(['a --> b', 'x < y & z > w', 'AT&T &amp; &#233; &lt;3'])).toEqual([
      'a --&gt; b',
      'x &lt; y &amp; z > w',
      'AT&amp;T &amp; &#233; &lt;3',
    ]);
  });

  it('strips what ASS and HTML-ish SubRip leave: override blocks, <font>, \\h, \\N, vector drawings, controls', () => {
    expect(cleanCueLines(['{\\an8}{\\pos(10,20)}Top', '<font color="#ff0000">Red</font>', 'a\\hb\\Nsecond'])).toEqual([
      'Top',
      'Red',
      'a\u00a0b',
      'second',
    ]);
    expect(cleanCueLines(['m 0 0 l 100 0 100 100 0 100', 'bell\u0007', '   ', '{\\p1}'])).toEqual(['bell']);
    // Words that merely start with "m" are text.
    expect(cleanCueLines(['m 1 2 my dear'])).toEqual(['m 1 2 my dear']);
  });
});

describe('segmentWebVtt', () => {
  const full = vtt(
    '00:00:00.500 --> 00:00:01.000\nfirst',
    '00:00:01.900 --> 00:00:02.100\nspans 0 and 1',
    '00:00:04.000 --> 00:00:04.500\nstarts on a boundary',
    '00:00:01.000 --> 00:00:05.000 line:10%\nspans 0, 1 and 2',
  );

  it('puts every cue in each segment it overlaps, with its original times, sorted by start', () => {
    const { segments, cueCount, warnings } = segmentWebVtt(full, [2, 2, 2, 2], { mpegts: 126_000 });
    expect(warnings).toEqual([]);
    expect(cueCount).toBe(4);
    expect(segments).toHaveLength(4);
    expect(cuesOf(segments[0]!)).toEqual([
      '00:00:00.500 --> 00:00:01.000\nfirst',
      '00:00:01.000 --> 00:00:05.000 line:10%\nspans 0, 1 and 2',
      '00:00:01.900 --> 00:00:02.100\nspans 0 and 1',
    ]);
    expect(cuesOf(segments[1]!)).toEqual([
      '00:00:01.000 --> 00:00:05.000 line:10%\nspans 0, 1 and 2',
      '00:00:01.900 --> 00:00:02.100\nspans 0 and 1',
    ]);
    expect(cuesOf(segments[2]!)).toEqual([
      '00:00:01.000 --> 00:00:05.000 line:10%\nspans 0, 1 and 2',
      '00:00:04.000 --> 00:00:04.500\nstarts on a boundary',
    ]);
    // An empty segment is still a valid WebVTT file with the timestamp map.
    expect(segments[3]).toBe('WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n');
    for (const s of segments)
      expect(s.startsWith('WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n')).toBe(true);
  });

  it('a cue ending exactly on a boundary stays out of the next segment', () => {
    const { segments } = segmentWebVtt(vtt('00:01.000 --> 00:02.000\nA'), [2, 2], { mpegts: 0 });
    expect(cuesOf(segments[0]!)).toHaveLength(1);
    expect(cuesOf(segments[1]!)).toHaveLength(0);
  });

  it('zero-length segments get the header and nothing else unless a cue spans them', () => {
    const { segments } = segmentWebVtt(
      vtt('00:01.000 --> 00:01.500\nA', '00:03.000 --> 00:05.000\nB'),
      [2, 0, 2, 0, 2],
      {
        mpegts: 0,
      },
    );
    expect(segments.map((s) => cuesOf(s).length)).toEqual([1, 0, 1, 1, 1]);
  });

  it('follows the video past an hour without drifting (EXTINF values that are not exact in binary)', () => {
    const durations = Array.from({ length: 1000 }, () => 4.004);
    const { segments, cueCount } = segmentWebVtt(vtt('01:06:42.000 --> 01:06:43.000\nlate'), durations, { mpegts: 0 });
    expect(cueCount).toBe(1);
    // 4004 s / 4.004 s = segment 999 starts at 3999.996 s = 01:06:39.996.
    expect(segments.map((s, i) => (cuesOf(s).length ? i : -1)).filter((i) => i >= 0)).toEqual([999]);
    expect(cuesOf(segments[999]!)).toEqual(['01:06:42.000 --> 01:06:43.000\nlate']);
  });

  it('segment 0 starts at videoStartSec on the WebVTT clock', () => {
    const { segments, warnings } = segmentWebVtt(
      vtt('00:00.100 --> 00:00.200\nbefore the video', '00:01.900 --> 00:02.100\nA', '00:02.300 --> 00:02.400\nB'),
      [2, 2],
      { mpegts: 0, videoStartSec: 0.25 },
    );
    expect(segments.map((s) => cuesOf(s).map((c) => c.split('\n')[1]))).toEqual([['A'], ['B']]);
    expect(warnings).toEqual(["1 cues outside the video's time span left out"]);
  });

  it('a track without a valid cue (empty file, garbage, cues after the video) gives header-only segments and a warning', () => {
    for (const text of ['', 'WEBVTT\n\n', 'hello\nworld', vtt('00:10.000 --> 00:11.000\nafter the end')]) {
      const { segments, cueCount, warnings } = segmentWebVtt(text, [2, 2], { mpegts: 900_000 });
      expect(cueCount).toBe(0);
      expect(segments).toHaveLength(2);
      expect(warnings).toContain('no valid cue: the track has nothing to show');
    }
  });

  it('never throws on nonsense durations', () => {
    const { segments, warnings } = segmentWebVtt(vtt('00:01.000 --> 00:02.000\nA'), [NaN, -1, 2], { mpegts: 0 });
    expect(segments).toHaveLength(3);
    expect(warnings[0]).toMatch(/2 segment durations/);
    expect(segmentWebVtt(vtt('00:01.000 --> 00:02.000\nA'), [], { mpegts: 0 }).warnings).toContain(
      'the video has no segments',
    );
  });
});

describe('X-TIMESTAMP-MAP', () => {
  it('maps local 0 to the video clock, moving to LOCAL when the clock is negative there', () => {
    expect(timestampMapLine(133_200)).toBe('X-TIMESTAMP-MAP=MPEGTS:133200,LOCAL:00:00:00.000');
    expect(timestampMapLine(7199.6)).toBe('X-TIMESTAMP-MAP=MPEGTS:7200,LOCAL:00:00:00.000');
    expect(timestampMapLine(-14_400)).toBe('X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.160');
    expect(timestampMapLine(-14_410)).toBe('X-TIMESTAMP-MAP=MPEGTS:80,LOCAL:00:00:00.161');
    expect(timestampMapLine(2 ** 33 + 5)).toBe('X-TIMESTAMP-MAP=MPEGTS:5,LOCAL:00:00:00.000');
  });

  it('is the first frame timestamp minus its local time', () => {
    expect(mpegtsAtLocalZero(133_200)).toBe(133_200);
    expect(mpegtsAtLocalZero(147_600, 0.24)).toBe(126_000);
  });
});

describe('subtitleMediaPlaylist', () => {
  it("repeats the video's EXTINF durations and target duration in a complete VOD playlist", () => {
    const text = subtitleMediaPlaylist([2, 2, 0.04], 2, defaultSubtitleSegmentName);
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:2',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-PLAYLIST-TYPE:VOD',
        '#EXTINF:2.000000,',
        'seg_00000.vtt',
        '#EXTINF:2.000000,',
        'seg_00001.vtt',
        '#EXTINF:0.040000,',
        'seg_00002.vtt',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
    const pl = HLS.parse(text) as HLS.types.MediaPlaylist;
    expect(pl.segments.map((s) => [s.uri, s.duration])).toEqual([
      ['seg_00000.vtt', 2],
      ['seg_00001.vtt', 2],
      ['seg_00002.vtt', 0.04],
    ]);
    expect(pl.endlist).toBe(true);
    expect(pl.playlistType).toBe('VOD');
  });
});
