/**
 * Checks the staged tree before anything reaches the NAS, then writes what ffmpeg does not: every media playlist
 * (video rungs, audio and subtitle renditions) parses, is complete and lasts as long as the source, and every file
 * it lists exists and is non-empty (playlist-check.ts). Then it measures what the master needs (real bitrates,
 * exact codec strings), writes each rung's I-frame playlist, writes the master with the renditions' real folder
 * names (ffmpeg's staging names are v0, v1, ...), and checks the whole against Apple's rules (apple-rules.ts).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { StorageError } from '../errors.js';
import type { AudioGroupPlan, RenditionPlan, TranscodePlan } from '../transcode/types.js';
import type { AppleCodecLimits } from '../media/codec-levels.js';
import { checkAppleRules, formatViolations } from './apple-rules.js';
import { buildIFramePlaylist } from './iframe-playlist.js';
import { ladderFactsOf, type CheckedPlaylistRef } from './ladder-facts.js';
import {
  AUDIO_CODEC_STRINGS,
  buildMasterPlaylist,
  type MasterIFrameVariant,
  type MasterMedia,
  type MasterVariant,
} from './master-playlist.js';
import { checkMediaPlaylist, type CheckedMediaPlaylist } from './playlist-check.js';
import { localStagedWriter, type StagedWriter } from './staged-writer.js';
import { probeVideo, type VideoFactsOptions } from './video-facts.js';

export { durationTolerance } from './playlist-check.js';

export interface StagedRendition {
  rendition: RenditionPlan;
  /** Absolute staged folder of this rendition (stagingDir/<variantDir>; the commit copies it to destPath). */
  stagedDir: string;
  /** The rendition's own files, relative to stagedDir with forward slashes: playlists, init section, segments. */
  files: string[];
  /** Segment (+ init) bytes. */
  mediaBytes: number;
  durationSec: number;
  peakBitrate: number;
  averageBitrate: number;
  width: number;
  height: number;
  /** The video codec string (the master adds its audio group's). */
  videoCodec: string;
}

export interface VerifiedStaging {
  renditions: StagedRendition[];
  /**
   * The audio and subtitle renditions' files, relative to stagingDir (all under plan.tracksDir), forward
   * slashes; empty when the ladder has none.
   */
  trackFiles: string[];
  /** Absolute path of the staged master playlist. */
  masterFile: string;
  /** Every byte that the commit will copy. */
  totalBytes: number;
}

export interface VerifyOptions extends VideoFactsOptions {
  /** Highest H.264/HEVC levels (hls_codec_limits); Apple's strict ones when absent. */
  codecLimits?: AppleCodecLimits;
  /** How the I-frame playlists and the master are written (default: plain local writes; a stitch's: NasFs). */
  writer?: StagedWriter;
}

/** GROUP-ID of the subtitle renditions. */
export const SUBTITLE_GROUP = 'subs';

/** Absolute staged folder of a rendition: plan.stagingDir/<variantDir> (the staging root for "."). */
export function stagedDirOf(plan: Pick<TranscodePlan, 'stagingDir'>, r: Pick<RenditionPlan, 'variantDir'>): string {
  return path.join(plan.stagingDir, ...r.variantDir.split('/').filter((p) => p !== '' && p !== '.'));
}

/** The media playlist's URI in the master that ffmpeg writes into staging ("v0/stream.m3u8", or "stream.m3u8"). */
export function stagedVariantUri(r: Pick<RenditionPlan, 'variantDir' | 'playlistName'>): string {
  return path.posix.join(r.variantDir, r.playlistName);
}

/**
 * The media playlist's URI in the master committed to the NAS: the rendition's real folder relative to masterDir,
 * each folder name percent-encoded (a space, comma, '%' or "é" is not valid raw in a URI; players decode them),
 * e.g. "Am%C3%A9lie%2C%20l'%C3%A9t%C3%A9/720p/stream.m3u8". Just the playlist name when destPath is masterDir.
 */
export function finalVariantUri(
  plan: Pick<TranscodePlan, 'masterDir'>,
  r: Pick<RenditionPlan, 'destPath' | 'playlistName'>,
): string {
  const rel = path.posix.relative(plan.masterDir, r.destPath);
  const folders = rel.split('/').filter(Boolean).map(encodeURIComponent);
  return [...folders, encodeURIComponent(r.playlistName)].join('/');
}

/** Name of each rung's I-frame playlist, never the master's nor the media playlist's. */
export function iframePlaylistName(plan: Pick<TranscodePlan, 'masterPlaylistName'>): string {
  return plan.masterPlaylistName.toLowerCase() === 'iframes.m3u8' ? 'iframes-only.m3u8' : 'iframes.m3u8';
}

/** A rendition folder's URI relative to masterDir: tracksDir is synthetic ([A-Za-z0-9._-]), encoded anyway. */
function trackUri(dir: string, playlistName: string): string {
  return [...dir.split('/'), playlistName].map(encodeURIComponent).join('/');
}

function absTrackDir(plan: Pick<TranscodePlan, 'stagingDir'>, dir: string): string {
  return path.join(plan.stagingDir, ...dir.split('/'));
}

interface CheckedTrack {
  dir: string;
  checked: CheckedMediaPlaylist;
}

async function checkTracks(plan: TranscodePlan, playlistName: string) {
  const audio = await Promise.all(
    plan.audioGroups.map(async (g) => ({
      group: g,
      renditions: await Promise.all(
        g.renditions.map(async (a) => ({
          a,
          checked: await checkMediaPlaylist(
            absTrackDir(plan, a.dir),
            playlistName,
            plan.source.durationSec,
            plan.segmentTime,
          ),
        })),
      ),
    })),
  );
  const subtitles: CheckedTrack[] = await Promise.all(
    plan.subtitles.map(async (s) => ({
      dir: s.dir,
      checked: await checkMediaPlaylist(
        absTrackDir(plan, s.dir),
        playlistName,
        plan.source.durationSec,
        plan.segmentTime,
      ),
    })),
  );
  return { audio, subtitles };
}

function audioMedia(g: AudioGroupPlan, playlistName: string): MasterMedia[] {
  return g.renditions.map((a) => ({
    type: 'AUDIO',
    groupId: g.id,
    name: a.label.name,
    ...(a.label.language ? { language: a.label.language } : {}),
    isDefault: a.label.isDefault,
    autoselect: a.label.autoselect,
    characteristics: a.label.characteristics,
    channels: String(a.channels),
    uri: trackUri(a.dir, playlistName),
  }));
}

/** Verifies the staged tree of `plan` and writes its master playlist. Throws StorageError naming the bad file. */
export async function verifyStaging(plan: TranscodePlan, opts: VerifyOptions): Promise<VerifiedStaging> {
  const masterFile = path.join(plan.stagingDir, plan.masterPlaylistName);
  const writer = opts.writer ?? localStagedWriter;
  const playlistName = plan.playlistName;
  const iframeName = iframePlaylistName(plan);
  const fmp4 = plan.segmentType === 'fmp4';

  // Renditions are independent: check them side by side, keeping the plan's order.
  const [rungs, tracks] = await Promise.all([
    Promise.all(
      plan.renditions.map(async (r) => {
        const m = await checkMediaPlaylist(
          stagedDirOf(plan, r),
          r.playlistName,
          plan.source.durationSec,
          plan.segmentTime,
        );
        const facts = await probeVideo(m.firstMedia, r, opts);
        const iframes = await buildIFramePlaylist(m.dir, r.playlistName, { signal: opts.signal });
        await writer.writeFile(path.join(m.dir, iframeName), iframes.text);
        const iframeCheck = await checkMediaPlaylist(m.dir, iframeName, plan.source.durationSec, plan.segmentTime);
        return { r, m, facts, iframes, iframeCheck };
      }),
    ),
    checkTracks(plan, playlistName),
  ]);

  const media: MasterMedia[] = plan.audioGroups.flatMap((g) => audioMedia(g, playlistName));
  for (const [i, s] of plan.subtitles.entries()) {
    const l = s.label;
    media.push({
      type: 'SUBTITLES',
      groupId: SUBTITLE_GROUP,
      name: l.name,
      ...(l.language ? { language: l.language } : {}),
      isDefault: l.isDefault,
      autoselect: l.autoselect,
      forced: l.forced,
      characteristics: l.characteristics,
      uri: trackUri(tracks.subtitles[i]!.dir, playlistName),
    });
  }
  // The largest rendition of each audio group: a variant's BANDWIDTH is its video plus that (RFC 8216 4.3.4.2).
  const groupRates = new Map(
    tracks.audio.map(({ group, renditions }) => [
      group.id,
      {
        codec: AUDIO_CODEC_STRINGS[group.codec],
        peak: Math.max(...renditions.map((x) => x.checked.peak)),
        average: Math.max(...renditions.map((x) => x.checked.average)),
      },
    ]),
  );
  const surround = plan.audioGroups.find((g) => g.channels > 2);
  const subtitlesGroup = plan.subtitles.length > 0 ? SUBTITLE_GROUP : undefined;

  const renditions: StagedRendition[] = [];
  const variants: Array<MasterVariant & { videoCodec?: string }> = [];
  const iframes: Array<MasterIFrameVariant & { videoCodec: string }> = [];
  const playlists: CheckedPlaylistRef[] = [];
  for (const { r, m, facts, iframes: ifr, iframeCheck } of rungs) {
    renditions.push({
      rendition: r,
      stagedDir: m.dir,
      files: [...m.files, iframeName],
      mediaBytes: m.mediaBytes,
      durationSec: m.durationSec,
      peakBitrate: m.peak,
      averageBitrate: m.average,
      width: facts.width,
      height: facts.height,
      videoCodec: facts.codec,
    });
    const uri = finalVariantUri(plan, r);
    // Each rung once per audio group it plays with: its stereo group, and the surround group when there is one.
    const groups = [r.audioGroupId, surround?.id].filter((g): g is string => g !== undefined);
    const base = {
      width: facts.width,
      height: facts.height,
      frameRate: plan.fps,
      uri,
      subtitlesGroup,
      videoCodec: facts.codec,
    };
    if (groups.length === 0)
      variants.push({ ...base, bandwidth: m.peak, averageBandwidth: m.average, codecs: [facts.codec] });
    for (const g of groups) {
      const a = groupRates.get(g)!;
      variants.push({
        ...base,
        audioGroup: g,
        bandwidth: m.peak + a.peak,
        averageBandwidth: m.average + a.average,
        codecs: [facts.codec, a.codec],
      });
    }
    const iframeUri = uri.replace(/[^/]*$/, encodeURIComponent(iframeName));
    iframes.push({
      uri: iframeUri,
      bandwidth: ifr.peakBandwidth,
      averageBandwidth: ifr.averageBandwidth,
      width: facts.width,
      height: facts.height,
      codecs: [facts.codec],
      videoCodec: facts.codec,
    });
    playlists.push(
      { uri, kind: 'video', checked: m },
      {
        uri: iframeUri,
        kind: 'iframes',
        checked: iframeCheck,
        rates: { peak: ifr.peakBandwidth, average: ifr.averageBandwidth },
      },
    );
  }
  // An audio-only ladder: one variant per audio group, pointing at the group's default rendition (Apple's layout
  // for audio-only streams); the other renditions are its alternatives.
  if (rungs.length === 0) {
    for (const g of plan.audioGroups) {
      const a = groupRates.get(g.id)!;
      const main = g.renditions.find((x) => x.label.isDefault) ?? g.renditions[0]!;
      variants.push({
        uri: trackUri(main.dir, playlistName),
        bandwidth: a.peak,
        averageBandwidth: a.average,
        codecs: [a.codec],
        audioGroup: g.id,
      });
    }
  }
  // CLOSED-CAPTIONS needs version 6 (RFC 8216 section 7); fMP4 media playlists are version 7.
  const version = fmp4 ? 7 : 6;
  const text = buildMasterPlaylist(variants, { version, independentSegments: true, media, iframes });

  const trackChecks = [...tracks.audio.flatMap((g) => g.renditions), ...tracks.subtitles];
  for (const { group, renditions: rs } of tracks.audio)
    rs.forEach((x, i) =>
      playlists.push({ uri: audioMedia(group, playlistName)[i]!.uri, kind: 'audio', checked: x.checked }),
    );
  tracks.subtitles.forEach((t) =>
    playlists.push({ uri: trackUri(t.dir, playlistName), kind: 'subtitles', checked: t.checked }),
  );
  // Apple's rules, on the ladder exactly as it will be published: a violation fails the job, naming the rule.
  const violations = checkAppleRules(
    ladderFactsOf({
      masterName: plan.masterPlaylistName,
      masterVersion: version,
      segmentType: plan.segmentType,
      segmentTime: plan.segmentTime,
      independentSegments: true,
      variants,
      iframes,
      media,
      audioGroupCodecs: new Map([...groupRates].map(([id, g]) => [id, g.codec])),
      playlists,
    }),
    { ...(opts.codecLimits ? { limits: opts.codecLimits } : {}) },
  );
  if (violations.length > 0)
    throw new StorageError(`the ladder breaks Apple's HLS authoring rules: ${formatViolations(violations)}`);
  await writer.writeFile(masterFile, text);

  const trackFiles = trackChecks.flatMap(({ checked }) => {
    const rel = path.relative(plan.stagingDir, checked.dir).split(path.sep).join('/');
    return checked.files.map((f) => `${rel}/${f}`);
  });
  const sizes = await Promise.all(
    [
      ...renditions.flatMap((r) => [r.rendition.playlistName, iframeName].map((f) => path.join(r.stagedDir, f))),
      ...trackChecks.map(({ checked }) => checked.playlistFile),
    ].map(async (f) => (await stat(f)).size),
  );
  const totalBytes =
    Buffer.byteLength(text) +
    renditions.reduce((s, r) => s + r.mediaBytes, 0) +
    trackChecks.reduce((s, t) => s + t.checked.mediaBytes, 0) +
    sizes.reduce((a, b) => a + b, 0);
  return { renditions, trackFiles, masterFile, totalBytes };
}
