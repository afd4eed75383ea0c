/**
 * The in-process AV1 readers on real libsvtav1 output (ffmpeg 5.1, SVT-AV1 1.4): the av1C box of an fMP4 init
 * section gives the codec string and size ffprobe agrees with, the first fragment opens on a shown key frame, and a
 * later fragment (an inter frame: one frame per fragment here) is refused as an I-frame.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { av1KeyFrameProblem } from '../../src/storage/iframe-av1.js';
import { fmp4IFrameRange, readFmp4Track } from '../../src/storage/iframe-ranges.js';
import { readVideoParams } from '../../src/storage/segment-video.js';
import { makeTempDir, probeJson, removeDir, runFfmpeg } from '../helpers/media.js';

interface TopBox {
  type: string;
  start: number;
  end: number;
}

function topBoxes(buf: Buffer): TopBox[] {
  const out: TopBox[] = [];
  for (let at = 0; at + 8 <= buf.length;) {
    const size = buf.readUInt32BE(at);
    out.push({ type: buf.toString('latin1', at + 4, at + 8), start: at, end: at + size });
    at += size;
  }
  return out;
}

describe('AV1 in fMP4, read in-process', () => {
  let dir: string;
  let file: Buffer;
  let boxes: TopBox[];

  beforeAll(async () => {
    dir = await makeTempDir('tw-av1-');
    const out = path.join(dir, 'frag.mp4');
    // 10-bit to see the bit depth reach the codec string; one frame per fragment; a GOP longer than the clip.
    await runFfmpeg([
      ...['-f', 'lavfi', '-i', 'testsrc2=s=352x198:r=25:d=1', '-pix_fmt', 'yuv420p10le'],
      ...['-c:v', 'libsvtav1', '-preset', '12', '-g', '1000', '-b:v', '300k'],
      ...['-movflags', '+frag_every_frame+empty_moov+default_base_moof', out],
    ]);
    file = await readFile(out);
    boxes = topBoxes(file);
  }, 60_000);

  afterAll(async () => {
    await removeDir(dir);
  });

  it('reads av01.0.LLM.10 and the size from the init section, as ffprobe sees the stream', async () => {
    const init = file.subarray(0, boxes.find((b) => b.type === 'moof')!.start);
    const params = readVideoParams(init);
    expect(params).toMatchObject({ width: 352, height: 198 });
    expect(params!.codec).toMatch(/^av01\.0\.\d\dM\.10$/);
    const { streams } = await probeJson(path.join(dir, 'frag.mp4'));
    expect(streams[0]).toMatchObject({ codec_name: 'av1', width: 352, height: 198, pix_fmt: 'yuv420p10le' });
    expect(readFmp4Track(init)).toMatchObject({ codec: 'av1', nalLengthSize: 0, av1ReducedStillPictureHeader: false });
  });

  it('finds the key frame that opens the first fragment, and refuses an inter frame later on', () => {
    const init = file.subarray(0, boxes.find((b) => b.type === 'moof')!.start);
    const track = readFmp4Track(init);
    const moofs = boxes.filter((b) => b.type === 'moof');
    expect(moofs.length).toBeGreaterThan(5);
    const first = file.subarray(moofs[0]!.start);
    const range = fmp4IFrameRange(first, true, track);
    expect(range?.offset).toBe(0);
    // The sample of each fragment is its mdat body (one frame, one track).
    const mdatAfter = (m: TopBox) => boxes.find((b) => b.start === m.end && b.type === 'mdat')!;
    const sampleOf = (m: TopBox) => file.subarray(mdatAfter(m).start + 8, mdatAfter(m).end);
    expect(av1KeyFrameProblem(sampleOf(moofs[0]!))).toBeUndefined();
    expect(av1KeyFrameProblem(sampleOf(moofs[5]!))).toMatch(/not a KEY_FRAME|not shown|show_existing_frame/);
    // The fragment's own sample flags say so too, so the playlist builder refuses it before reading the frame.
    expect(() => fmp4IFrameRange(file.subarray(moofs[5]!.start), true, track)).toThrow(/sync sample|I-frame/);
  });
});
