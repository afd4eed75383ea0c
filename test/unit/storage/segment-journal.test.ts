import { appendFile, readFile, readdir, stat, truncate as truncateFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEventPlaylist } from '../../../src/storage/event-playlist.js';
import { openSegmentJournal, watchSegmentJournal, type SegmentJournal } from '../../../src/storage/segment-journal.js';
import { PLAYLIST, RENDITIONS, spawnHls } from '../../helpers/hls-event-run.js';
import { makeTempDir, removeDir } from '../../helpers/media.js';
import { waitFor } from '../../helpers/wait.js';

async function listed(stagingDir: string, rendition: string) {
  try {
    return parseEventPlaylist(await readFile(path.join(stagingDir, rendition, PLAYLIST), 'utf8'));
  } catch {
    return [];
  }
}

const brief = (j: SegmentJournal, r: string) => j.segments(r).map((s) => [s.index, s.file, s.duration]);

describe('segment journal against a real ffmpeg EVENT run killed mid-run (fMP4)', () => {
  let tmp: string;
  let staging: string;
  let file: string;
  /** Per rendition, what ffmpeg listed when it died: exactly its complete segments. */
  const listedAtKill = new Map<string, Awaited<ReturnType<typeof listed>>>();
  let journal: SegmentJournal;
  const scanErrors: unknown[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir('tw-journal-');
    staging = path.join(tmp, 'staging');
    file = path.join(tmp, 'state', 'segments.jsonl');
    journal = await openSegmentJournal({ file, stagingDir: staging, renditions: RENDITIONS, playlistName: PLAYLIST });
    // Scans start before ffmpeg has written anything: absent playlists are no news, not errors.
    const watch = watchSegmentJournal(journal, { intervalMs: 20, onError: (e) => scanErrors.push(e) });
    const child = spawnHls({
      stagingDir: staging,
      segmentType: 'fmp4',
      playlistType: 'event',
      seconds: 12,
      readRate: 4,
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_c, sig) => resolve(sig)));
    // The watcher, scanning while ffmpeg runs, has journaled the 3rd segment of v0: kill ffmpeg there.
    await waitFor(() => journal.segments('v0').length >= 3, {
      timeoutMs: 30_000,
      message: 'the journal to record the 3rd segment of v0',
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    await watch.stop();
    for (const r of RENDITIONS) listedAtKill.set(r, await listed(staging, r));
  });
  afterAll(async () => {
    await journal.close();
    await removeDir(tmp);
  });

  it('records exactly the segments ffmpeg listed (complete), with their size, EXTINF and the init on the first', async () => {
    expect(scanErrors).toEqual([]);
    const v0 = listedAtKill.get('v0')!;
    expect(v0.length).toBeGreaterThanOrEqual(3);
    expect(v0.length).toBeLessThan(12); // killed mid-run, not at the end
    for (const r of RENDITIONS) {
      const segs = journal.segments(r);
      expect(brief(journal, r)).toEqual(listedAtKill.get(r)!.map((l) => [l.index, l.uri, l.duration]));
      for (const s of segs) expect((await stat(path.join(staging, r, s.file))).size).toBe(s.bytes);
      expect(segs[0]!.map).toMatch(/^init_\d\.mp4$/);
      expect(segs.slice(1).every((s) => s.map === undefined)).toBe(true);
    }
    // ffmpeg died holding a segment it had not finished: on disk, perhaps as .tmp, but never journaled.
    const files = await readdir(path.join(staging, 'v0'));
    const journaled = new Set(journal.segments('v0').map((s) => s.file));
    expect(files.filter((f) => f.endsWith('.m4s') && !journaled.has(f) && !f.endsWith('.tmp'))).toEqual([]);
  });

  it('completePrefix is the smallest listed count over the renditions', () => {
    const counts = RENDITIONS.map((r) => listedAtKill.get(r)!.length);
    expect(journal.completePrefix()).toBe(Math.min(...counts));
  });

  it('keeps the index across a re-open (resume after a crash), and a missing or short file ends the prefix', async () => {
    const before = RENDITIONS.map((r) => brief(journal, r));
    const again = await openSegmentJournal({
      file,
      stagingDir: staging,
      renditions: RENDITIONS,
      playlistName: PLAYLIST,
    });
    try {
      expect(RENDITIONS.map((r) => brief(again, r))).toEqual(before);
      expect(again.completePrefix()).toBe(journal.completePrefix());
      expect(await again.scan()).toEqual([]); // nothing new: already journaled
      const seg1 = path.join(staging, 'v1', again.segments('v1')[1]!.file);
      const original = await readFile(seg1);
      await truncateFile(seg1, original.length - 1);
      expect(again.completePrefix()).toBe(1);
      await writeFile(seg1, original);
      expect(again.completePrefix()).toBe(journal.completePrefix());
    } finally {
      await again.close();
    }
  });
});

describe('segment journal file handling', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await makeTempDir('tw-journal-file-');
  });
  afterAll(() => removeDir(tmp));

  /** A hand-written EVENT playlist and its segment files, as ffmpeg leaves them. */
  async function fakeRun(staging: string, r: string, sequence: number, count: number, map?: string) {
    const dir = path.join(staging, r);
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:1', `#EXT-X-MEDIA-SEQUENCE:${sequence}`];
    lines.push('#EXT-X-PLAYLIST-TYPE:EVENT');
    if (map) lines.push(`#EXT-X-MAP:URI="${map}"`);
    for (let n = sequence; n < sequence + count; n++) {
      const name = `seg_${String(n).padStart(5, '0')}.m4s`;
      await writeFile(path.join(dir, name), Buffer.alloc(100 + n));
      lines.push('#EXTINF:1.000000,', name);
    }
    await writeFile(path.join(dir, PLAYLIST), lines.join('\n') + '\n');
  }

  it("ignores a torn last line, truncates durably, and honours a resumed run's MEDIA-SEQUENCE and MAP", async () => {
    const staging = path.join(tmp, 'a');
    const file = path.join(tmp, 'a.jsonl');
    const o = { file, stagingDir: staging, renditions: ['v0', 'a0'], playlistName: PLAYLIST };
    await fakeRun(staging, 'v0', 0, 5, 'init_0.mp4');
    await fakeRun(staging, 'a0', 0, 4, 'init_1.mp4');
    let j = await openSegmentJournal(o);
    expect((await j.scan()).length).toBe(9);
    expect(j.completePrefix()).toBe(4);
    await j.close();

    // Power cut mid-append: half a line at the end.
    await appendFile(file, '{"r":"v0","n":5,"f":"seg_0');
    j = await openSegmentJournal(o);
    expect(j.segments('v0').map((s) => s.index)).toEqual([0, 1, 2, 3, 4]);
    expect((await readFile(file, 'utf8')).endsWith('}\n')).toBe(true); // the torn line was cut off

    await j.truncate(2);
    expect(j.segments('v0').map((s) => s.index)).toEqual([0, 1]);
    expect(j.completePrefix()).toBe(2);
    // The EVENT playlists still listing 2.. are gone, so a scan cannot record the old files again.
    expect(existsSync(path.join(staging, 'v0', PLAYLIST))).toBe(false);
    expect(await j.scan()).toEqual([]);

    // The resumed run (-start_number 2, its own init) lists 2..6.
    await fakeRun(staging, 'v0', 2, 5, 'range_init_0.mp4');
    await fakeRun(staging, 'a0', 2, 5, 'range_init_1.mp4');
    const fresh = await j.scan();
    expect(fresh.map((s) => `${s.rendition}:${s.index}:${s.map ?? ''}`)).toEqual([
      'v0:2:range_init_0.mp4',
      'v0:3:',
      'v0:4:',
      'v0:5:',
      'v0:6:',
      'a0:2:range_init_1.mp4',
      'a0:3:',
      'a0:4:',
      'a0:5:',
      'a0:6:',
    ]);
    expect(j.completePrefix()).toBe(7);
    await j.close();

    const reopened = await openSegmentJournal(o);
    expect(reopened.segments('a0').map((s) => [s.index, s.map])).toEqual([
      [0, 'init_1.mp4'],
      [1, undefined],
      [2, 'range_init_1.mp4'],
      [3, undefined],
      [4, undefined],
      [5, undefined],
      [6, undefined],
    ]);
    expect(reopened.completePrefix()).toBe(7);
    await reopened.close();
  });

  it("truncates per rendition (a resume: video from K, audio from K' < K)", async () => {
    const staging = path.join(tmp, 'c');
    const o = {
      file: path.join(tmp, 'c.jsonl'),
      stagingDir: staging,
      renditions: ['v0', 'a0'],
      playlistName: PLAYLIST,
    };
    await fakeRun(staging, 'v0', 0, 5);
    await fakeRun(staging, 'a0', 0, 5);
    const j = await openSegmentJournal(o);
    await j.scan();
    await j.truncate((r) => (r === 'v0' ? 5 : 4));
    expect(j.segments('v0').map((s) => s.index)).toEqual([0, 1, 2, 3, 4]);
    expect(j.segments('a0').map((s) => s.index)).toEqual([0, 1, 2, 3]);
    expect(j.completePrefix()).toBe(4);
    await j.close();
    // Durably: a reopened journal has the same.
    const again = await openSegmentJournal(o);
    expect(again.segments('a0').map((s) => s.index)).toEqual([0, 1, 2, 3]);
    expect(again.segments('v0').length).toBe(5);
    await again.close();
  });

  it('a listed segment whose file is gone is not recorded; an absent staging folder is no news', async () => {
    const staging = path.join(tmp, 'b');
    const j = await openSegmentJournal({
      file: path.join(tmp, 'b.jsonl'),
      stagingDir: staging,
      renditions: ['v0'],
      playlistName: PLAYLIST,
    });
    expect(await j.scan()).toEqual([]);
    await fakeRun(staging, 'v0', 0, 3);
    await import('node:fs/promises').then((fs) => fs.rm(path.join(staging, 'v0', 'seg_00001.m4s')));
    expect((await j.scan()).map((s) => s.index)).toEqual([0, 2]);
    expect(j.completePrefix()).toBe(1);
    await j.close();
  });
});
