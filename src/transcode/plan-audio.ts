/**
 * The audio half of the plan (pure): which source tracks are kept, and the audio groups they are encoded into.
 *
 * Every kept track becomes one audio rendition per group (#EXT-X-MEDIA:TYPE=AUDIO), encoded ONCE per job and shared
 * by every video rung, as Apple's authoring spec lays a multi-language ladder out (before issue 11 the default
 * track alone was muxed into each rung and so encoded once per rung). Groups:
 *  - one AAC-LC stereo group per distinct stereo bitrate among the outputs (normally one: "aac-128k"), always
 *    present when the source has audio: every player plays it;
 *  - with audio_config.surround and a source track of more than two channels, one surround group (E-AC-3 or AC-3)
 *    holding the same tracks (5.1 where the source has more than two channels, stereo otherwise), so a player
 *    that picks the surround variants still offers every language. Each video rung is then listed once per group.
 */
import { labelAudioTracks } from '../media/track-labels.js';
import { toBcp47 } from '../media/languages.js';
import type { AudioGroupPlan, AudioRenditionPlan, AudioStreamInfo } from './types.js';
import type { ValidatedAudioConfig } from './validated-job.js';

const STEREO_IN_SURROUND_MAX = 192_000;
const CODEC_GROUP_PREFIX = { aac: 'aac', ac3: 'ac3', eac3: 'ec3' } as const;

/** The primary language subtag of a stream's tag ("fre" -> "fr", "pt-BR" -> "pt"); undefined when unknown. */
function primaryLanguage(tag: string | undefined): string | undefined {
  return toBcp47(tag)?.split('-')[0]?.toLowerCase();
}

/**
 * The tracks audio_config.languages keeps, in source order. When no track matches any listed language, every
 * track is kept: a job never loses all its sound to a filter (a film tagged "und" throughout, a typo).
 */
export function keptAudioStreams(audio: readonly AudioStreamInfo[], languages: readonly string[]): AudioStreamInfo[] {
  if (languages.length === 0) return [...audio];
  const wanted = new Set(languages.map((l) => l.toLowerCase()));
  const matched = audio.filter((a) => {
    const lang = primaryLanguage(a.language);
    return lang !== undefined && wanted.has(lang);
  });
  return matched.length > 0 ? matched : [...audio];
}

export interface AudioGroupsResult {
  groups: AudioGroupPlan[];
  /** GROUP-ID of the stereo group each output plays with (undefined for all when the source has no audio). */
  groupOfOutput: Array<string | undefined>;
}

function kbps(bps: number): string {
  return `${Math.round(bps / 1000)}k`;
}

/**
 * @param outputBitrates the stereo AAC bitrate of each output, in job order
 * @param tracksDir the folder (relative to staging and masterDir) that holds the renditions
 */
export function planAudioGroups(
  source: readonly AudioStreamInfo[],
  config: ValidatedAudioConfig,
  outputBitrates: readonly number[],
  tracksDir: string,
): AudioGroupsResult {
  const kept = keptAudioStreams(source, config.languages);
  if (kept.length === 0) return { groups: [], groupOfOutput: outputBitrates.map(() => undefined) };

  // One set of labels for every group: players keep the listener's choice across groups by NAME.
  const labels = labelAudioTracks(
    kept.map((a) => ({ language: a.language, title: a.title, channels: a.channels, disposition: a.disposition })),
  );
  let next = 0;
  const makeGroup = (id: string, codec: AudioGroupPlan['codec'], bitrate: number, surround: boolean) => {
    const channelsOf = (a: AudioStreamInfo) => (surround && a.channels > 2 ? 6 : 2);
    const renditions: AudioRenditionPlan[] = kept.map((a, i) => ({
      dir: `${tracksDir}/a${next++}`,
      streamIndex: a.index,
      sourceChannels: a.channels,
      sourceLayout: a.channelLayout,
      ...(a.sampleRate ? { sourceSampleRate: a.sampleRate } : {}),
      channels: channelsOf(a),
      codec,
      // A stereo track in the surround group needs no surround bitrate (E-AC-3/AC-3 stereo is transparent at 192k).
      bitrate: surround && channelsOf(a) === 2 ? Math.min(bitrate, STEREO_IN_SURROUND_MAX) : bitrate,
      groupId: id,
      label: labels[i]!,
    }));
    const group: AudioGroupPlan = { id, codec, channels: surround ? 6 : 2, bitrate, renditions };
    return group;
  };

  const stereoRates = [...new Set(outputBitrates)].sort((a, b) => a - b);
  const groups = stereoRates.map((rate) => makeGroup(`aac-${kbps(rate)}`, 'aac', rate, false));
  const groupOfOutput = outputBitrates.map((rate) => `aac-${kbps(rate)}`);
  if (config.surround && kept.some((a) => a.channels > 2)) {
    const { codec, bitrate } = config.surround;
    groups.push(makeGroup(`${CODEC_GROUP_PREFIX[codec]}-5.1`, codec, bitrate, true));
  }
  return { groups, groupOfOutput };
}

/** Every audio rendition of the plan, group by group, in the order ffmpeg's audio output streams are numbered. */
export function allAudioRenditions(groups: readonly AudioGroupPlan[]): AudioRenditionPlan[] {
  return groups.flatMap((g) => g.renditions);
}
