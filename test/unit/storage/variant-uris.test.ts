import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { finalVariantUri, stagedDirOf, stagedVariantUri } from '../../../src/storage/verify.js';

const plan = { stagingDir: path.join('/tmp', 'tw', 'jobs', 'job-1'), masterDir: "processed/Amélie, l'été (2001) 100%" };

describe('staged and final variant locations', () => {
  it('stages a rendition in its synthetic folder, or in the staging root for "."', () => {
    expect(stagedDirOf(plan, { variantDir: 'v1' })).toBe(path.join(plan.stagingDir, 'v1'));
    expect(stagedDirOf(plan, { variantDir: '.' })).toBe(plan.stagingDir);
    expect(stagedVariantUri({ variantDir: 'v1', playlistName: 'stream.m3u8' })).toBe('v1/stream.m3u8');
    expect(stagedVariantUri({ variantDir: '.', playlistName: 'media.m3u8' })).toBe('media.m3u8');
  });

  it('lists the real folder in the committed master, percent-encoded per folder name', () => {
    const uri = (destPath: string) => finalVariantUri(plan, { destPath, playlistName: 'stream.m3u8' });
    expect(uri(`${plan.masterDir}/720p`)).toBe('720p/stream.m3u8');
    expect(uri(`${plan.masterDir}/HD (720p), 100%/#1 & más`)).toBe(
      'HD%20(720p)%2C%20100%25/%231%20%26%20m%C3%A1s/stream.m3u8',
    );
    // A single output: the master sits in the rendition's own folder.
    expect(uri(plan.masterDir)).toBe('stream.m3u8');
    // The encoded URI decodes back to the folder path (what players and readHlsTree do).
    expect(uri(`${plan.masterDir}/a b/c,d`).split('/').map(decodeURIComponent)).toEqual(['a b', 'c,d', 'stream.m3u8']);
  });
});
