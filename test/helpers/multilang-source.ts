/**
 * A family-library film made at test time (lavfi + SRT text, no binary fixture): three audio tracks (English 5.1
 * default with its dialogue tone in the centre channel, French stereo, an English director's commentary), two
 * embedded subtitle tracks (English, French forced) and, optionally, sidecar subtitle files beside it.
 * Each audio track carries its own tone, so a test can tell which one it hears.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runFfmpeg } from './media.js';

/** The tone of each audio track, in source order (Hz). */
export const TRACK_TONES = { english: 440, french: 660, commentary: 880 } as const;

/** Embedded cues: [start s, end s, text]. */
export const ENGLISH_CUES: Array<[number, number, string]> = [
  [0.5, 1.5, 'Hello from English'],
  [2.5, 3.4, 'Second English line'],
];
export const FRENCH_FORCED_CUES: Array<[number, number, string]> = [[1.2, 2.2, 'Bonjour (forcé)']];
export const GERMAN_SIDECAR_CUES: Array<[number, number, string]> = [[3.1, 3.8, 'Guten Tag']];

function srtTime(sec: number): string {
  const ms = Math.round(sec * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)},${pad(ms % 1000, 3)}`;
}

export function srtText(cues: Array<[number, number, string]>): string {
  return cues.map(([a, b, t], i) => `${i + 1}\n${srtTime(a)} --> ${srtTime(b)}\n${t}\n`).join('\n');
}

export interface MultiLanguageOptions {
  name?: string;
  duration?: number;
  /** Write "<stem>.de.srt" beside the film. */
  germanSidecar?: boolean;
  /** Write a malformed "<stem>.it.srt" beside the film (no timing lines at all). */
  brokenSidecar?: boolean;
}

/** Makes the film in `dir`; returns its path. */
export async function makeMultiLanguageFilm(dir: string, opts: MultiLanguageOptions = {}): Promise<string> {
  const name = opts.name ?? 'family.mkv';
  const d = opts.duration ?? 4;
  const stem = name.replace(/\.[^.]+$/, '');
  const en = path.join(dir, `.${stem}.embed-en.srt`);
  const fr = path.join(dir, `.${stem}.embed-fr.srt`);
  await writeFile(en, srtText(ENGLISH_CUES));
  await writeFile(fr, srtText(FRENCH_FORCED_CUES));
  const out = path.join(dir, name);
  const centre = `0.5*sin(${TRACK_TONES.english}*2*PI*t)`;
  const ambience = '0.05*sin(100*2*PI*t)';
  await runFfmpeg([
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=s=320x180:r=25:d=${d}`,
    '-f', 'lavfi', '-i', `aevalsrc=0|0|${centre}|0|${ambience}|${ambience}:c=5.1:s=48000:d=${d}`,
    '-f', 'lavfi', '-i', `sine=f=${TRACK_TONES.french}:d=${d}:sample_rate=48000`,
    '-f', 'lavfi', '-i', `sine=f=${TRACK_TONES.commentary}:d=${d}:sample_rate=48000`,
    '-i', en, '-i', fr,
    '-map', '0:v', '-map', '1:a', '-map', '2:a', '-map', '3:a', '-map', '4:s', '-map', '5:s',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25',
    '-c:a', 'aac', '-b:a', '96k', '-ac:a:1', '2', '-c:s', 'srt',
    '-metadata:s:a:0', 'language=eng', '-metadata:s:a:1', 'language=fre',
    '-metadata:s:a:2', 'language=eng', '-metadata:s:a:2', "title=Director's commentary",
    '-disposition:a:0', 'default', '-disposition:a:1', '0', '-disposition:a:2', 'comment',
    '-metadata:s:s:0', 'language=eng', '-metadata:s:s:1', 'language=fre',
    '-disposition:s:0', '0', '-disposition:s:1', 'forced',
    out,
  ]); // prettier-ignore
  if (opts.germanSidecar) await writeFile(path.join(dir, `${stem}.de.srt`), srtText(GERMAN_SIDECAR_CUES));
  if (opts.brokenSidecar)
    await writeFile(path.join(dir, `${stem}.it.srt`), 'this is not\na subtitle file\n\x00\x01 at all\n');
  return out;
}
