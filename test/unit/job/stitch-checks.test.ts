import { describe, expect, it } from 'vitest';
import { resolvePartRange } from '../../../src/job/part-spec.js';
import { checkParts, type StitchExpectation } from '../../../src/job/stitch-checks.js';
import type { PartManifest } from '../../../src/storage/parts-area.js';

const SOURCE = { size: 1000, mtime_ms: 5, head_sha256: 'h', tail_sha256: 't' };
const RENDITIONS = ['v0', 'v1', 'index_tracks/a0'];

function manifest(
  index: number,
  start: number,
  end: number,
  over: Partial<PartManifest> = {},
  extra = 0,
): PartManifest {
  const seg = (n: number) => ({ n, f: `seg_${String(n).padStart(5, '0')}.ts`, d: '4.000000', b: 100 });
  const segs = (k: number) => Array.from({ length: end - start + k }, (_, j) => seg(start + j));
  return {
    version: 1,
    parent_job_id: 'film',
    index,
    count: 3,
    start_segment: start,
    end_segment: end,
    total_segments: 30,
    segment_time: 4,
    segment_type: 'ts',
    ladder: 'L',
    source: SOURCE,
    encoders: { v0: 'libx264', v1: 'libx264' },
    renditions: Object.fromEntries(RENDITIONS.map((r) => [r, { segments: segs(r.includes('a0') ? extra : 0) }])),
    written_at: 'now',
    ...over,
  };
}

const WANT: StitchExpectation = {
  parentJobId: 'film',
  count: 3,
  ladder: 'L',
  source: SOURCE,
  renditions: RENDITIONS,
  segmentType: 'ts',
};

describe('checkParts', () => {
  it('joins contiguous parts into one list per rendition (the audio tail segment of the last part included)', () => {
    const layout = checkParts([manifest(0, 0, 10), manifest(1, 10, 20), manifest(2, 20, 30, {}, 1)], WANT);
    expect(layout.segments.get('v0')!.map((s) => s.index)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(layout.segments.get('index_tracks/a0')).toHaveLength(31);
    expect(layout.segments.get('v1')![15]).toMatchObject({ part: 1, index: 15, file: 'seg_00015.ts' });
  });

  it.each([
    [
      'a gap between parts',
      [manifest(0, 0, 10), manifest(1, 12, 20), manifest(2, 20, 30)],
      /part 1 .*starts at segment 12/,
    ],
    [
      'a short last part',
      [manifest(0, 0, 10), manifest(1, 10, 20), manifest(2, 20, 28)],
      /part 2 .*ends at segment 28/,
    ],
    [
      'another film',
      [manifest(0, 0, 10), manifest(1, 10, 20, { source: { ...SOURCE, size: 1 } }), manifest(2, 20, 30)],
      /part 1 .*source changed/,
    ],
    [
      'another ladder',
      [manifest(0, 0, 10, { ladder: 'X' }), manifest(1, 10, 20), manifest(2, 20, 30)],
      /part 0 .*another ladder/,
    ],
    [
      'other encoders',
      [manifest(0, 0, 10), manifest(1, 10, 20, { encoders: { v0: 'h264_nvenc', v1: 'libx264' } }), manifest(2, 20, 30)],
      /part 1 .*h264_nvenc/,
    ],
    ['a missing part', [manifest(0, 0, 10), manifest(1, 10, 20)], /expects 3 parts, found 2/],
    [
      'another parent',
      [manifest(0, 0, 10, { parent_job_id: 'other' }), manifest(1, 10, 20), manifest(2, 20, 30)],
      /part 0 .*belongs to job "other"/,
    ],
  ])('refuses %s, naming the part', (_what, parts, message) => {
    expect(() => checkParts(parts, WANT)).toThrow(message);
  });

  it('refuses a rendition with a hole', () => {
    const broken = manifest(1, 10, 20);
    broken.renditions.v1!.segments.splice(3, 1);
    expect(() => checkParts([manifest(0, 0, 10), broken, manifest(2, 20, 30)], WANT)).toThrow(
      /part 1 .*v1 skips from segment 12 to 14/,
    );
  });

  it('needs part 0 fMP4 inits and takes them', () => {
    const fmp4 = (i: number, a: number, b: number, map?: string) => {
      const m = manifest(i, a, b, { segment_type: 'fmp4' });
      for (const r of RENDITIONS) m.renditions[r] = { ...m.renditions[r]!, ...(map ? { map } : {}) };
      return m;
    };
    const want = { ...WANT, segmentType: 'fmp4' as const };
    expect(() => checkParts([fmp4(0, 0, 10), fmp4(1, 10, 20), fmp4(2, 20, 30)], want)).toThrow(/no fMP4 init/);
    const layout = checkParts([fmp4(0, 0, 10, 'init_0.mp4'), fmp4(1, 10, 20), fmp4(2, 20, 30)], want);
    expect(layout.maps.get('v1')).toBe('init_0.mp4');
  });
});

describe('resolvePartRange', () => {
  it('cuts equal parts, the larger first, when the orchestrator gives no range', () => {
    const parts = [0, 1, 2, 3].map((index) => resolvePartRange({ parent_job_id: 'f', index, count: 4 }, 120, 4));
    expect(parts.map((p) => [p.start, p.end])).toEqual([
      [0, 8],
      [8, 16],
      [16, 23],
      [23, 30],
    ]);
    // A part past a short film's last segment is empty, so a stitch of `count` parts still finds them all.
    expect(resolvePartRange({ parent_job_id: 'f', index: 2, count: 3 }, 6, 4)).toEqual({
      start: 2,
      end: 2,
      total: 2,
    });
  });

  it('takes an explicit range on any segment boundary and refuses one outside the film', () => {
    expect(
      resolvePartRange({ parent_job_id: 'f', index: 1, count: 2, start_segment: 16, end_segment: null }, 120, 4),
    ).toEqual({ start: 16, end: 30, total: 30 });
    // Off the audio step (2 at T = 4): the part job starts its audio at 14 and leaves 14 out.
    expect(
      resolvePartRange({ parent_job_id: 'f', index: 1, count: 2, start_segment: 15, end_segment: 21 }, 120, 4),
    ).toEqual({ start: 15, end: 21, total: 30 });
    expect(() => resolvePartRange({ parent_job_id: 'f', index: 2, count: 2 }, 120, 4)).toThrow(/part.index 2/);
    expect(() => resolvePartRange({ parent_job_id: 'f', index: 0, count: 2, start_segment: 40 }, 120, 4)).toThrow(
      /past the film's 30 segments/,
    );
    expect(() =>
      resolvePartRange({ parent_job_id: 'f', index: 0, count: 2, start_segment: 9, end_segment: 9 }, 120, 4),
    ).toThrow(/must be after/);
  });
});
