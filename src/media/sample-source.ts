/**
 * The argv that makes a sample film with ffmpeg's lavfi sources (a moving test pattern and a tone): the demo, the
 * compose demo driver and the benchmarks all need one, made on the spot instead of downloaded or checked in.
 * multilingualSampleArgs adds what a real film has: two audio languages (one 5.1) and two subtitle tracks.
 */
import path from 'node:path';

export interface SampleSourceOptions {
  /** Output file; its extension picks the container. */
  file: string;
  width?: number;
  height?: number;
  fps?: number;
  seconds?: number;
  /** A 440 Hz AAC track (default true). */
  audio?: boolean;
  /** libx264 preset: veryfast by default, ultrafast where only speed matters. */
  preset?: string;
}

export function sampleSourceArgs(o: SampleSourceOptions): string[] {
  const seconds = o.seconds ?? 6;
  const audio = o.audio ?? true;
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${o.width ?? 1280}x${o.height ?? 720}:rate=${o.fps ?? 25}:duration=${seconds}`,
    ...(audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`] : []),
    '-c:v',
    'libx264',
    '-preset',
    o.preset ?? 'veryfast',
    // 4:2:0 8-bit: what every player decodes (testsrc2 would otherwise give 4:4:4).
    '-pix_fmt',
    'yuv420p',
    ...(audio ? ['-c:a', 'aac', '-shortest'] : []),
    o.file,
  ];
}

/** An audio track of the multilingual sample: a pure tone, so a test (or an ear) can tell the tracks apart. */
export interface SampleAudioTrack {
  /** ISO 639-2 tag, as films carry it. */
  language: string;
  title: string;
  channels: 2 | 6;
  /** The tone's frequency; in a 5.1 track it plays in the centre channel only (where dialogue lives). */
  toneHz: number;
  codec: 'ac3' | 'aac';
  bitrate: string;
  default: boolean;
}

/** A subtitle track of the multilingual sample, made from SRT text written at run time (sampleSubtitleFiles). */
export interface SampleSubtitleTrack {
  language: string;
  title: string;
  forced: boolean;
  /**
   * File name of its SRT beside the sample. Deliberately not "<sample stem>.<lang>.srt": the worker would take such
   * a file for a sidecar of the sample and add the same track twice.
   */
  srtName: string;
  /** Each cue reads "<cueText> <n>". */
  cueText: string;
}

/** English 5.1 (default) and French stereo: the two languages a dubbed film has at least. */
export const SAMPLE_AUDIO_TRACKS: readonly SampleAudioTrack[] = [
  { language: 'eng', title: 'English 5.1', channels: 6, toneHz: 440, codec: 'ac3', bitrate: '384k', default: true },
  { language: 'fre', title: 'Français', channels: 2, toneHz: 660, codec: 'aac', bitrate: '128k', default: false },
];

/** English subtitles (off by default), and French forced ones (what a player shows even with subtitles off). */
export const SAMPLE_SUBTITLE_TRACKS: readonly SampleSubtitleTrack[] = [
  { language: 'eng', title: 'English', forced: false, srtName: 'demo-subtitles-en.srt', cueText: 'English subtitle' },
  {
    language: 'fre',
    title: 'Français (forcé)',
    forced: true,
    srtName: 'demo-subtitles-fr-forced.srt',
    cueText: 'Sous-titre forcé',
  },
];

/** "00:00:02,500" */
function srtTime(ms: number): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${pad(h)}:${pad(m)}:${pad(s)},${pad(ms % 1000, 3)}`;
}

/**
 * SRT text of a sample subtitle track: a cue every 2 s from 0.5 s, each shown 1.5 s, all ending within `seconds`
 * (a 2 s sample has one cue).
 */
export function sampleSrt(track: SampleSubtitleTrack, seconds: number): string {
  const cues: string[] = [];
  for (let start = 500, n = 1; start + 1500 <= seconds * 1000; start += 2000, n++)
    cues.push(`${n}\n${srtTime(start)} --> ${srtTime(start + 1500)}\n${track.cueText} ${n}\n`);
  return cues.join('\n');
}

/** The SRT files the multilingual sample is muxed from: where to write them (in `dir`) and their text. */
export function sampleSubtitleFiles(dir: string, seconds: number): Array<{ path: string; text: string }> {
  return SAMPLE_SUBTITLE_TRACKS.map((t) => ({ path: path.join(dir, t.srtName), text: sampleSrt(t, seconds) }));
}

export interface MultilingualSampleOptions extends Omit<SampleSourceOptions, 'audio'> {
  /** A Matroska file (.mkv): it carries SubRip subtitles as they are. */
  file: string;
  /** The folder holding the SRT files of sampleSubtitleFiles (written before ffmpeg runs). */
  subtitleDir: string;
}

/**
 * The argv that makes a film with every track kind a library holds: the moving test pattern, SAMPLE_AUDIO_TRACKS
 * (English 5.1 with its tone in the centre channel, default; French stereo) and SAMPLE_SUBTITLE_TRACKS (English;
 * French forced), each with its language and title tags.
 */
export function multilingualSampleArgs(o: MultilingualSampleOptions): string[] {
  const seconds = o.seconds ?? 6;
  const audio = SAMPLE_AUDIO_TRACKS;
  const subs = SAMPLE_SUBTITLE_TRACKS;
  // Inputs: 0 video, 1..A one tone per audio track, then one SRT per subtitle track.
  const tone = (t: SampleAudioTrack) => [
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${t.toneHz}:sample_rate=48000:duration=${seconds}`,
  ];
  const pan = audio.map(
    (t, i) => `[${i + 1}:a]${t.channels === 6 ? 'pan=5.1|FC=c0' : 'pan=stereo|c0=c0|c1=c0'}[a${i}]`,
  );
  const perAudio = audio.flatMap((t, i) => [
    '-map',
    `[a${i}]`,
    `-c:a:${i}`,
    t.codec,
    `-b:a:${i}`,
    t.bitrate,
    `-metadata:s:a:${i}`,
    `language=${t.language}`,
    `-metadata:s:a:${i}`,
    `title=${t.title}`,
    `-disposition:a:${i}`,
    t.default ? 'default' : '0',
  ]);
  const perSub = subs.flatMap((t, i) => [
    '-map',
    `${1 + audio.length + i}:s`,
    `-metadata:s:s:${i}`,
    `language=${t.language}`,
    `-metadata:s:s:${i}`,
    `title=${t.title}`,
    `-disposition:s:${i}`,
    t.forced ? 'forced' : '0',
  ]);
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${o.width ?? 1280}x${o.height ?? 720}:rate=${o.fps ?? 25}:duration=${seconds}`,
    ...audio.flatMap(tone),
    ...subs.flatMap((t) => ['-i', path.join(o.subtitleDir, t.srtName)]),
    '-filter_complex',
    pan.join(';'),
    '-map',
    '0:v',
    '-c:v',
    'libx264',
    '-preset',
    o.preset ?? 'veryfast',
    '-pix_fmt',
    'yuv420p',
    '-disposition:v:0',
    'default',
    ...perAudio,
    ...perSub,
    '-c:s',
    'srt',
    '-t',
    String(seconds),
    o.file,
  ];
}
