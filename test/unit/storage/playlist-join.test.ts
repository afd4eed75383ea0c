import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSegmentJournal, type JournaledSegment } from '../../../src/storage/segment-journal.js';
import {
  PlaylistJoinError,
  targetDuration,
  writeJoinedPlaylists,
  type JoinRendition,
} from '../../../src/storage/playlist-join.js';
import { PLAYLIST, RENDITIONS, runHls } from '../../helpers/hls-event-run.js';
import { makeTempDir, removeDir } from '../../helpers/media.js';

const JOIN: JoinRendition[] = [
  { dir: 'v0', independentSegments: true },
  { dir: 'v1', independentSegments: true },
  { dir: 'a0', independentSegments: false },
];

let tmp: string;
beforeAll(async () => {
  tmp = await makeTempDir('tw-join-');
});
afterAll(() => removeDir(tmp));

describe.each(['ts', 'fmp4'] as const)('joined playlists of an uninterrupted %s run', (segmentType) => {
  it("are byte for byte ffmpeg's own -hls_playlist_type vod playlists; strays are removed", async () => {
    const event = path.join(tmp, `${segmentType}-event`);
    const vod = path.join(tmp, `${segmentType}-vod`);
    // The same deterministic encode twice: once as the worker runs it (EVENT), once as ffmpeg's VOD reference.
    await Promise.all([
      runHls({ stagingDir: event, segmentType, playlistType: 'event', seconds: 5 }),
      runHls({ stagingDir: vod, segmentType, playlistType: 'vod', seconds: 5 }),
    ]);
    const j = await openSegmentJournal({
      file: path.join(tmp, `${segmentType}.jsonl`),
      stagingDir: event,
      renditions: RENDITIONS,
      playlistName: PLAYLIST,
    });
    await j.scan();
    // Leftovers of a killed later run: its init, a .tmp, a segment beyond the journal.
    const ext = segmentType === 'fmp4' ? 'm4s' : 'ts';
    const strays = [
      `seg_00099.${ext}`,
      `seg_00005.${ext}.tmp`,
      ...(segmentType === 'fmp4' ? ['range_init_0.mp4'] : []),
    ];
    for (const s of strays) await writeFile(path.join(event, 'v0', s), 'x');
    await writeJoinedPlaylists({
      stagingDir: event,
      playlistName: PLAYLIST,
      segmentType,
      renditions: JOIN,
      segmentsOf: (d) => j.segments(d),
    });
    await j.close();
    for (const r of RENDITIONS) {
      const ours = await readFile(path.join(event, r, PLAYLIST), 'utf8');
      expect(ours).toBe(await readFile(path.join(vod, r, PLAYLIST), 'utf8'));
      expect(ours).not.toContain('EVENT');
      expect((await readdir(path.join(event, r))).sort()).toEqual((await readdir(path.join(vod, r))).sort());
    }
  });
});

function seg(index: number, duration = '4.000000', map?: string): JournaledSegment {
  return {
    rendition: 'v0',
    index,
    file: `seg_${String(index).padStart(5, '0')}.m4s`,
    duration,
    bytes: 3,
    ...(map ? { map } : {}),
  };
}

describe('writeJoinedPlaylists refusals', () => {
  it('refuses a rendition whose journal has a gap, and writes nothing for any rendition', async () => {
    const staging = path.join(tmp, 'gap');
    for (const d of ['v0', 'a0']) {
      await mkdir(path.join(staging, d), { recursive: true });
      for (const n of [0, 1, 2]) await writeFile(path.join(staging, d, seg(n).file), 'abc');
      await writeFile(path.join(staging, d, 'init_0.mp4'), 'init');
    }
    const err = await writeJoinedPlaylists({
      stagingDir: staging,
      playlistName: PLAYLIST,
      segmentType: 'fmp4',
      renditions: [
        { dir: 'v0', independentSegments: true },
        { dir: 'a0', independentSegments: false },
      ],
      segmentsOf: (d) =>
        d === 'v0' ? [seg(0, '4.0', 'init_0.mp4'), seg(1), seg(2)] : [seg(0, '4.0', 'init_0.mp4'), seg(2)],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlaylistJoinError);
    expect((err as Error).message).toMatch(/rendition "a0" .* not contiguous: segment 1 is missing/);
    expect((await readdir(path.join(staging, 'v0'))).includes(PLAYLIST)).toBe(false);
  });

  it('refuses a recorded segment whose file changed size, and an fMP4 rendition without its init', async () => {
    const staging = path.join(tmp, 'size');
    await mkdir(path.join(staging, 'v0'), { recursive: true });
    await writeFile(path.join(staging, 'v0', seg(0).file), 'abcd');
    const base = {
      stagingDir: staging,
      playlistName: PLAYLIST,
      renditions: [{ dir: 'v0', independentSegments: true }],
    };
    await expect(writeJoinedPlaylists({ ...base, segmentType: 'ts', segmentsOf: () => [seg(0)] })).rejects.toThrow(
      /has 4 bytes, not the 3 recorded/,
    );
    await writeFile(path.join(staging, 'v0', seg(0).file), 'abc');
    await expect(writeJoinedPlaylists({ ...base, segmentType: 'fmp4', segmentsOf: () => [seg(0)] })).rejects.toThrow(
      /No init segment/,
    );
  });
});

describe('targetDuration', () => {
  it("is ffmpeg's lrint of the longest EXTINF (half to even)", () => {
    expect(targetDuration([4, 4, 3.96])).toBe(4);
    expect(targetDuration([3.4, 4.004, 1.2])).toBe(4);
    expect(targetDuration([4.6, 3])).toBe(5);
    expect(targetDuration([2.5])).toBe(2);
    expect(targetDuration([3.5])).toBe(4);
    expect(targetDuration([0.021333])).toBe(0);
  });
});

describe('writeJoinedPlaylists of a resumed run', () => {
  it("uses the first run's init for the whole rendition and removes the later run's init", async () => {
    const staging = path.join(tmp, 'resumed');
    const dir = path.join(staging, 'v0');
    await mkdir(dir, { recursive: true });
    for (const n of [0, 1, 2, 3]) await writeFile(path.join(dir, seg(n).file), 'abc');
    for (const f of ['init_0.mp4', 'range_init_0.mp4']) await writeFile(path.join(dir, f), 'init');
    await writeFile(path.join(staging, 'master.m3u8'), '#EXTM3U\n');
    await writeJoinedPlaylists({
      stagingDir: staging,
      playlistName: PLAYLIST,
      segmentType: 'fmp4',
      renditions: [{ dir: 'v0', independentSegments: true }],
      segmentsOf: () => [
        seg(0, '4.000000', 'init_0.mp4'),
        seg(1),
        seg(2, '4.004000', 'range_init_0.mp4'),
        seg(3, '3.960000'),
      ],
    });
    expect(await readFile(path.join(dir, PLAYLIST), 'utf8')).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:7',
        '#EXT-X-TARGETDURATION:4',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-PLAYLIST-TYPE:VOD',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-MAP:URI="init_0.mp4"',
        '#EXTINF:4.000000,',
        'seg_00000.m4s',
        '#EXTINF:4.000000,',
        'seg_00001.m4s',
        '#EXTINF:4.004000,',
        'seg_00002.m4s',
        '#EXTINF:3.960000,',
        'seg_00003.m4s',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
    expect((await readdir(dir)).sort()).toEqual([
      'init_0.mp4',
      'seg_00000.m4s',
      'seg_00001.m4s',
      'seg_00002.m4s',
      'seg_00003.m4s',
      PLAYLIST,
    ]);
    expect(await readdir(staging)).toContain('master.m3u8');
  });
});
