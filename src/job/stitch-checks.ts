/**
 * Whether the parts of a split film join into one ladder (the stitch's check, before anything is moved): all there,
 * of the same parent, film and ladder, contiguous from segment 0 to the film's end in every rendition, made with
 * the same encoders. Pure: the manifests are read elsewhere (storage/parts-area.ts). Every refusal names the part
 * and says what is wrong, for the orchestrator's log (and its retry of that part).
 */
import { StorageError } from '../errors.js';
import type { PartManifest } from '../storage/parts-area.js';
import type { SourceFingerprint } from '../storage/source-fingerprint.js';

export interface StitchExpectation {
  parentJobId: string;
  count: number;
  /** The stitch's own ladder digest (part-spec.ts ladderShape). */
  ladder: string;
  source: SourceFingerprint;
  /** Every rendition folder of the ladder (video rungs, then audio). */
  renditions: string[];
  segmentType: 'ts' | 'fmp4';
}

export interface JoinedSegment {
  /** Which part holds the file. */
  part: number;
  index: number;
  file: string;
  duration: string;
  bytes: number;
}

export interface StitchLayout {
  /** Per rendition folder: every segment of the film in order. */
  segments: Map<string, JoinedSegment[]>;
  /** fMP4: the init segment of part 0, per rendition (the one every segment is decoded with). */
  maps: Map<string, string>;
  encoders: Record<string, string>;
  totalSegments: number;
}

class PartProblem extends StorageError {}

function fail(index: number, why: string): never {
  throw new PartProblem(`part ${index} cannot be stitched: ${why}`);
}

export function checkParts(manifests: readonly PartManifest[], want: StitchExpectation): StitchLayout {
  if (manifests.length !== want.count)
    throw new PartProblem(`the stitch expects ${want.count} parts, found ${manifests.length}`);
  const first = manifests[0]!;
  const segments = new Map<string, JoinedSegment[]>(want.renditions.map((r) => [r, []]));
  const maps = new Map<string, string>();
  let expectedStart = 0;
  manifests.forEach((m, i) => {
    if (m.index !== i) fail(i, `its manifest says it is part ${m.index}`);
    if (m.parent_job_id !== want.parentJobId) fail(i, `it belongs to job ${JSON.stringify(m.parent_job_id)}`);
    if (m.count !== want.count) fail(i, `it was cut as one of ${m.count} parts, not ${want.count}`);
    if (m.ladder !== want.ladder)
      fail(i, "it was made for another ladder (outputs, bitrates, segment_time or audio differ from this job's)");
    const s = m.source;
    if (s.size !== want.source.size || s.mtime_ms !== want.source.mtime_ms || s.head_sha256 !== want.source.head_sha256)
      fail(i, 'the source changed since it was encoded');
    if (s.tail_sha256 !== want.source.tail_sha256) fail(i, 'the source changed since it was encoded');
    if (m.segment_type !== want.segmentType) fail(i, `its segments are ${m.segment_type}, not ${want.segmentType}`);
    if (m.total_segments !== first.total_segments) fail(i, 'it counts a different number of segments in the film');
    if (JSON.stringify(m.encoders) !== JSON.stringify(first.encoders))
      fail(i, `it was encoded with ${JSON.stringify(m.encoders)}, part 0 with ${JSON.stringify(first.encoders)}`);
    if (m.start_segment !== expectedStart)
      fail(i, `it starts at segment ${m.start_segment}, the previous part ends at ${expectedStart}`);
    const last = i === manifests.length - 1;
    if (last && m.end_segment !== m.total_segments)
      fail(i, `the last part ends at segment ${m.end_segment}, the film has ${m.total_segments}`);
    const names = Object.keys(m.renditions).sort();
    if (JSON.stringify(names) !== JSON.stringify([...want.renditions].sort()))
      fail(i, `its renditions ${names.join(', ')} are not the ladder's ${want.renditions.join(', ')}`);
    for (const dir of want.renditions) {
      const r = m.renditions[dir]!;
      const list = segments.get(dir)!;
      if (m.end_segment > m.start_segment && r.segments[0]?.n !== m.start_segment)
        fail(i, `${dir} does not start at segment ${m.start_segment}`);
      r.segments.forEach((seg, k) => {
        if (seg.n !== m.start_segment + k) fail(i, `${dir} skips from segment ${m.start_segment + k - 1} to ${seg.n}`);
      });
      const made = r.segments.length;
      // Only the film's last part may go past its end: the audio's last few milliseconds can make one more segment.
      if (made < m.end_segment - m.start_segment || (!last && made !== m.end_segment - m.start_segment))
        fail(i, `${dir} has ${made} segments, the part covers ${m.end_segment - m.start_segment}`);
      if (want.segmentType === 'fmp4' && i === 0) {
        if (!r.map) fail(i, `${dir} has no fMP4 init segment`);
        maps.set(dir, r.map);
      }
      for (const seg of r.segments) list.push({ part: i, index: seg.n, file: seg.f, duration: seg.d, bytes: seg.b });
    }
    expectedStart = m.end_segment;
  });
  return { segments, maps, encoders: first.encoders, totalSegments: first.total_segments };
}
