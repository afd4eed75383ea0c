/**
 * RFC 8216's and Apple's rules on the renditions (#EXT-X-MEDIA) of each audio and subtitles group: names,
 * DEFAULT/AUTOSELECT/FORCED, languages, accessibility markings, audio formats and channels.
 */
import type {
  AppleRuleId,
  AudioGroupFacts,
  AudioRenditionFacts,
  LadderFacts,
  RuleViolation,
  SubtitleGroupFacts,
  SubtitleRenditionFacts,
} from './apple-rule-facts.js';
import { violation } from './apple-rule-facts.js';

/**
 * RFC 5646 section 2.1 Language-Tag, well-formed (grandfathered irregular tags such as "i-klingon" left out):
 * language[-extlang][-script][-region](-variant)*(-extension)*[-privateuse], or privateuse alone.
 */
const LANGTAG_RE = new RegExp(
  '^(?:(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})' +
    '(?:-[a-z]{4})?' +
    '(?:-(?:[a-z]{2}|\\d{3}))?' +
    '(?:-(?:[a-z\\d]{5,8}|\\d[a-z\\d]{3}))*' +
    '(?:-[a-wyz\\d](?:-[a-z\\d]{2,8})+)*' +
    '(?:-x(?:-[a-z\\d]{1,8})+)?' +
    '|x(?:-[a-z\\d]{1,8})+)$',
  'i',
);

/**
 * ISO 639-2/B codes (what Matroska files often carry): never valid BCP-47 subtags, the 639-1 code is (fre -> fr).
 * The list is closed: these are all the B codes that differ from their T codes.
 */
const ISO639_2B_TO_1: Readonly<Record<string, string>> = {
  alb: 'sq',
  arm: 'hy',
  baq: 'eu',
  bur: 'my',
  chi: 'zh',
  cze: 'cs',
  dut: 'nl',
  fre: 'fr',
  geo: 'ka',
  ger: 'de',
  gre: 'el',
  ice: 'is',
  mac: 'mk',
  mao: 'mi',
  may: 'ms',
  per: 'fa',
  rum: 'ro',
  slo: 'sk',
  tib: 'bo',
  wel: 'cy',
};

/** Why a LANGUAGE value is not a usable BCP-47 tag, or null when it is. */
export function languageTagProblem(tag: string): string | null {
  if (!LANGTAG_RE.test(tag)) return `LANGUAGE "${tag}" is not a well-formed BCP-47 tag`;
  const b = ISO639_2B_TO_1[tag.split('-')[0]!.toLowerCase()];
  if (b) return `LANGUAGE "${tag}" is an ISO 639-2/B code, not a BCP-47 language: use "${b}"`;
  return null;
}

const DESCRIBES_VIDEO = 'public.accessibility.describes-video';
const TRANSCRIBES_DIALOG = 'public.accessibility.transcribes-spoken-dialog';
const DESCRIBES_MUSIC = 'public.accessibility.describes-music-and-sound';

/** Audio formats Apple devices play (Apple 2.2, 2.5 and the CODECS appendix). */
const APPLE_AUDIO_CODECS = /^(mp4a\.40\.(2|5|29|34|42)|ac-3|ec-3|alac|fLaC|apac(\..+)?)$/;
const AAC_CODECS = /^mp4a\.40\.(2|5|29)$/;

type Rendition = (AudioRenditionFacts | SubtitleRenditionFacts) & { forced?: boolean };

function channelCount(channels: string | undefined): number | undefined {
  const m = /^(\d+)(\/[^/"]*)*$/.exec(channels ?? '');
  return m ? Number(m[1]) : undefined;
}

function checkGroup(kind: 'audio' | 'subtitles', id: string, renditions: readonly Rendition[]): RuleViolation[] {
  const out: RuleViolation[] = [];
  const at = (rule: AppleRuleId, r: Rendition, msg: string) =>
    out.push(violation(rule, r.uri, `${kind} group "${id}", "${r.name}": ${msg}`, 'master'));
  const names = new Set<string>();
  const autoselectKeys = new Map<string, string>();
  let defaults = 0;
  for (const r of renditions) {
    if (names.has(r.name)) at('rendition-name-unique', r, 'another rendition of the group has this NAME');
    names.add(r.name);
    if (r.isDefault && ++defaults > 1) at('rendition-default', r, 'a second DEFAULT=YES in the group');
    if (r.isDefault && !r.autoselect) at('rendition-default', r, 'DEFAULT=YES needs AUTOSELECT=YES');
    const chars = [...(r.characteristics ?? [])].sort();
    if (r.autoselect) {
      const key = [r.language?.toLowerCase() ?? '', r.forced ? 'forced' : '', chars.join(',')].join('|');
      const other = autoselectKeys.get(key);
      if (other !== undefined) {
        at(
          'rendition-autoselect-distinct',
          r,
          `AUTOSELECT=YES with the same LANGUAGE/FORCED/CHARACTERISTICS as "${other}"`,
        );
      } else autoselectKeys.set(key, r.name);
    }
    if (kind === 'audio' && r.forced) at('rendition-forced', r, 'FORCED is only allowed on SUBTITLES');
    if (kind === 'subtitles' && r.forced && !r.autoselect) at('rendition-forced', r, 'FORCED=YES needs AUTOSELECT=YES');
    // A track whose language is unknown ("und") has no LANGUAGE, as issue 11 asks: Apple's authoring spec wants
    // one on every rendition, but a made-up tag would mislabel the track. A LANGUAGE that is written must be valid.
    if (r.language !== undefined) {
      const problem = languageTagProblem(r.language);
      if (problem) at('rendition-language', r, problem);
    }
    if (chars.includes(DESCRIBES_VIDEO) && !r.autoselect) {
      at('rendition-accessibility', r, 'described video (DVS) needs AUTOSELECT=YES');
    }
    const sdh = chars.includes(TRANSCRIBES_DIALOG) || chars.includes(DESCRIBES_MUSIC);
    if (sdh && !(chars.includes(TRANSCRIBES_DIALOG) && chars.includes(DESCRIBES_MUSIC))) {
      at('rendition-accessibility', r, `SDH needs both ${TRANSCRIBES_DIALOG} and ${DESCRIBES_MUSIC}`);
    }
    if (sdh && !r.autoselect) at('rendition-accessibility', r, 'SDH subtitles need AUTOSELECT=YES');
  }
  return out;
}

function checkAudioGroup(g: AudioGroupFacts, masterUri: string): RuleViolation[] {
  const out = checkGroup('audio', g.id, g.renditions);
  if (!APPLE_AUDIO_CODECS.test(g.codec)) {
    out.push(
      violation('audio-codec', masterUri, `audio group "${g.id}" is ${g.codec}, not a format Apple plays`, 'media'),
    );
  }
  for (const r of g.renditions) {
    if (channelCount(r.channels) === undefined) {
      out.push(violation('audio-channels', r.uri, `"${r.name}": CHANNELS is ${r.channels ?? 'missing'}`, 'master'));
    }
  }
  return out;
}

function checkSubtitleGroup(g: SubtitleGroupFacts): RuleViolation[] {
  return checkGroup('subtitles', g.id, g.renditions);
}

export function checkRenditions(f: LadderFacts): RuleViolation[] {
  const out = [
    ...f.audioGroups.flatMap((g) => checkAudioGroup(g, f.masterUri)),
    ...f.subtitleGroups.flatMap(checkSubtitleGroup),
  ];
  const groups = f.audioGroups.filter((g) => g.renditions.length > 0);
  // A rendition without CHANNELS is audio-channels' finding, not this one's.
  const stereoAac = groups.some(
    (g) => AAC_CODECS.test(g.codec) && g.renditions.every((r) => (channelCount(r.channels) ?? 2) <= 2),
  );
  if (groups.length > 0 && !stereoAac) {
    out.push(
      violation('stereo-aac', f.masterUri, 'no audio group is stereo AAC, which every Apple device plays', 'media'),
    );
  }
  return out;
}
