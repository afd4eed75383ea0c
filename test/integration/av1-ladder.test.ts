/**
 * A real libsvtav1 rung through the real pipeline (issue 14, "AV1 rungs"): the job is planned with libsvtav1 verified,
 * encoded by ffmpeg into fMP4 (the AV1 rung forces the whole ladder there, the H.264 rung too), verified (codec
 * string from the av1C box, I-frame playlist from the key frames, Apple rules) and committed. Tiny on purpose:
 * 320x180, 2 s, the harness's fastest preset.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSuccess } from '../../src/job/contract.js';
import { FFPROBE, makeSource, probeJson } from '../helpers/media.js';
import { createPipelineHarness, ladderJob, type PipelineHarness } from '../helpers/pipeline-harness.js';
import { makeProbeReport } from '../helpers/probe-report.js';

const execFileP = promisify(execFile);

describe('an AV1 rung (libsvtav1) end to end', () => {
  let h: PipelineHarness;
  let result: JobSuccess;
  let master: string;
  let masterDir: string;

  beforeAll(async () => {
    h = await createPipelineHarness();
    await makeSource(path.join(h.nas, 'movies'), { name: 'av1.mp4', width: 320, height: 180, duration: 2 });
    const job = ladderJob('movies/av1.mp4', [
      ['320x180', '300k', 'processed/av1/180p'],
      ['256x144', '200k', 'processed/av1/144p'],
    ]);
    job.outputs[0]!.codec = 'libsvtav1';
    const probe = makeProbeReport({ encoders: ['libx264', 'libx265', 'libsvtav1', 'aac'] });
    const r = await h.run(job, { probe });
    if (!r.ok) throw r.error;
    result = r.result;
    masterDir = path.join(h.nas, 'processed/av1');
    master = await readFile(path.join(h.nas, result.manifestUrl), 'utf8');
  }, 120_000);

  afterAll(async () => {
    await h?.cleanup();
  });

  it('completes with a master whose AV1 variant says av01 and whose H.264 variant says avc1', async () => {
    const inf = master.split('\n').filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
    expect(inf).toHaveLength(2);
    expect(inf.find((l) => l.includes('RESOLUTION=320x180'))).toMatch(/CODECS="av01\.0\.\d\dM\.08,mp4a\.40\.2"/);
    expect(inf.find((l) => l.includes('RESOLUTION=256x144'))).toMatch(/CODECS="avc1\.[0-9A-F]{6},mp4a\.40\.2"/);
    // The I-frame variant of the AV1 rung carries the same codec string.
    const av1 = /CODECS="(av01[^",]+)/.exec(master)![1]!;
    expect(master).toMatch(new RegExp(`#EXT-X-I-FRAME-STREAM-INF:.*CODECS="${av1.replace(/\./g, '\\.')}"`));
    expect(await h.stagingLeft()).toEqual([]);
  });

  it('writes fMP4 segments that ffprobe reads as AV1 320x180, each opening on a key frame', async () => {
    const dir = path.join(masterDir, '180p');
    const files = await readdir(dir);
    const init = files.find((f) => /^init.*\.mp4$/.test(f));
    const segments = files.filter((f) => f.endsWith('.m4s')).sort();
    expect(init).toBeDefined();
    expect(segments.length).toBeGreaterThanOrEqual(2);
    // init + second segment as one file: what a player decodes after a switch or seek to 1 s.
    const joined = path.join(h.root, 'av1-seg1.mp4');
    await writeFile(
      joined,
      Buffer.concat([await readFile(path.join(dir, init!)), await readFile(path.join(dir, segments[1]!))]),
    );
    const { streams } = await probeJson(joined);
    expect(streams[0]).toMatchObject({ codec_name: 'av1', width: 320, height: 180 });
    const { stdout } = await execFileP(FFPROBE, [
      '-v',
      'error',
      '-select_streams',
      'v',
      '-show_entries',
      'packet=flags',
      '-of',
      'csv=p=0',
      joined,
    ]);
    expect(stdout.trim().split('\n')[0]).toMatch(/^K/);
    // The I-frame playlist lists every segment's opening key frame by byte range.
    const iframes = await readFile(path.join(dir, 'iframes.m3u8'), 'utf8');
    expect(iframes.match(/#EXT-X-BYTERANGE:/g)).toHaveLength(segments.length);
  });

  it('keeps the H.264 rung in fMP4 too, so the rungs switch cleanly', async () => {
    const files = await readdir(path.join(masterDir, '144p'));
    expect(files.some((f) => f.endsWith('.m4s'))).toBe(true);
    expect(files.some((f) => f.endsWith('.ts'))).toBe(false);
  });
});
