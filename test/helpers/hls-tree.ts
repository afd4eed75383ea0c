/**
 * Reads a committed HLS tree back from the NAS with hls-parser, for assertions.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import HLS from 'hls-parser';

export interface ReadVariant {
  uri: string;
  variant: HLS.types.Variant;
  media: HLS.types.MediaPlaylist;
  /** Absolute paths of the segments (and init section) of this variant. */
  files: string[];
  durationSec: number;
}

/** Parses master + every media playlist under the manifest URL; throws when a referenced file is missing. */
export async function readHlsTree(
  nas: string,
  manifestUrl: string,
): Promise<{ masterText: string; variants: ReadVariant[] }> {
  const masterFile = path.join(nas, ...manifestUrl.split('/').filter(Boolean));
  const masterText = await readFile(masterFile, 'utf8');
  const master = HLS.parse(masterText) as HLS.types.MasterPlaylist;
  if (!master.isMasterPlaylist) throw new Error(`${masterFile} is not a master playlist`);
  const variants: ReadVariant[] = [];
  for (const variant of master.variants) {
    // URIs are percent-encoded per folder name ("My%20Movie/720p/stream.m3u8"), as players decode them.
    const mediaFile = path.join(path.dirname(masterFile), ...variant.uri.split('/').map(decodeURIComponent));
    const media = HLS.parse(await readFile(mediaFile, 'utf8')) as HLS.types.MediaPlaylist;
    const files: string[] = [];
    for (const seg of media.segments) {
      for (const uri of [seg.map?.uri, seg.uri]) {
        if (!uri) continue;
        const abs = path.join(path.dirname(mediaFile), ...uri.split('/').map(decodeURIComponent));
        if ((await stat(abs)).size === 0) throw new Error(`${abs} is empty`);
        if (!files.includes(abs)) files.push(abs);
      }
    }
    variants.push({
      uri: variant.uri,
      variant,
      media,
      files,
      durationSec: media.segments.reduce((s, x) => s + x.duration, 0),
    });
  }
  return { masterText, variants };
}
