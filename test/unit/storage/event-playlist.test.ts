import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventToVod, finalizeEventPlaylists } from '../../../src/storage/event-playlist.js';
import { makeTempDir, removeDir } from '../../helpers/media.js';

const ended =
  '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:4.000000,\nseg_00000.ts\n#EXT-X-ENDLIST\n';

describe('EVENT playlists of a finished run become VOD', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('tw-event-pl-');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('changes only the type line, and only once the playlist has ended', () => {
    expect(eventToVod(ended)).toBe(ended.replace('PLAYLIST-TYPE:EVENT', 'PLAYLIST-TYPE:VOD'));
    const running = ended.replace('#EXT-X-ENDLIST\n', '');
    expect(eventToVod(running)).toBe(running);
  });

  it('rewrites every listed rendition folder; a missing playlist is left to the verification', async () => {
    await mkdir(path.join(dir, 'v0'), { recursive: true });
    await mkdir(path.join(dir, 'index_tracks', 'a0'), { recursive: true });
    await writeFile(path.join(dir, 'v0', 'stream.m3u8'), ended);
    await writeFile(path.join(dir, 'index_tracks', 'a0', 'stream.m3u8'), ended);
    await finalizeEventPlaylists(dir, ['v0', 'index_tracks/a0', 'v9'], 'stream.m3u8');
    for (const d of ['v0', 'index_tracks/a0'])
      expect(await readFile(path.join(dir, d, 'stream.m3u8'), 'utf8')).toContain('#EXT-X-PLAYLIST-TYPE:VOD\n');
  });
});
