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
): Promise<{ masterText: string; variants: ReadVariant[]; iframes: ReadVariant[]; renditions: ReadVariant[] }> {
  const masterFile = path.join(nas, ...manifestUrl.split('/').filter(Boolean));
  const masterText = await readFile(masterFile, 'utf8');
  const master = HLS.parse(masterText) as HLS.types.MasterPlaylist;
  if (!master.isMasterPlaylist) throw new Error(`${masterFile} is not a master playlist`);
  const variants: ReadVariant[] = [];
  const iframes: ReadVariant[] = [];
  const renditions: ReadVariant[] = [];
  const seen = new Set<string>();
  // Each rung is listed once per audio group; read it once. I-frame variants and renditions are read apart.
  const entries: Array<{ uri: string; variant: HLS.types.Variant; into: ReadVariant[] }> = [];
  for (const variant of master.variants) {
    entries.push({ uri: variant.uri, variant, into: variant.isIFrameOnly ? iframes : variants });
    for (const r of [...variant.audio, ...variant.subtitles]) {
      if (r.uri) entries.push({ uri: r.uri, variant, into: renditions });
    }
  }
  for (const { uri, variant, into } of entries) {
    if (seen.has(uri)) continue;
    seen.add(uri);
    // URIs are percent-encoded per folder name ("My%20Movie/720p/stream.m3u8"), as players decode them.
    const mediaFile = path.join(path.dirname(masterFile), ...uri.split('/').map(decodeURIComponent));
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
    into.push({
      uri,
      variant,
      media,
      files,
      durationSec: media.segments.reduce((s, x) => s + x.duration, 0),
    });
  }
  return { masterText, variants, iframes, renditions };
}

export interface StagedPlaylist {
  /** Folder relative to the staging folder ("v0", ".", "index_tracks/a0"). */
  dir: string;
  media: HLS.types.MediaPlaylist;
  /** Absolute paths of the segments (and init section). */
  files: string[];
  durationSec: number;
}

async function readMediaPlaylist(dir: string, rel: string, playlistName: string): Promise<StagedPlaylist> {
  const folder = path.join(dir, ...rel.split('/').filter((p) => p !== '.'));
  const mediaFile = path.join(folder, playlistName);
  const media = HLS.parse(await readFile(mediaFile, 'utf8')) as HLS.types.MediaPlaylist;
  const files: string[] = [];
  for (const seg of media.segments) {
    for (const uri of [seg.map?.uri, seg.uri]) {
      if (!uri) continue;
      const abs = path.join(folder, ...uri.split('/').map(decodeURIComponent));
      if ((await stat(abs)).size === 0) throw new Error(`${abs} is empty`);
      if (!files.includes(abs)) files.push(abs);
    }
  }
  return { dir: rel, media, files, durationSec: media.segments.reduce((s, x) => s + x.duration, 0) };
}

/**
 * The media playlists ffmpeg staged for a plan, before verification writes the master: one per video rung
 * (plan order) and one per audio rendition (group by group).
 */
export async function readStagedLadder(plan: {
  stagingDir: string;
  renditions: ReadonlyArray<{ variantDir: string; playlistName: string }>;
  audioGroups: ReadonlyArray<{ renditions: ReadonlyArray<{ dir: string }> }>;
}): Promise<{ rungs: StagedPlaylist[]; audio: StagedPlaylist[] }> {
  const name = plan.renditions[0]!.playlistName;
  const rungs = await Promise.all(plan.renditions.map((r) => readMediaPlaylist(plan.stagingDir, r.variantDir, name)));
  const audio = await Promise.all(
    plan.audioGroups.flatMap((g) => g.renditions).map((a) => readMediaPlaylist(plan.stagingDir, a.dir, name)),
  );
  return { rungs, audio };
}
