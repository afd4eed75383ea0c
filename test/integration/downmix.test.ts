/**
 * The downmix chains of src/transcode/args/downmix.ts, measured with real ffmpeg on mixes made with lavfi.
 *
 * Dialogue is a 1 kHz tone: in the "stereo original" a phantom centre (the same signal in L and R at -3 dB, 0.354),
 * in the 5.1 mix the way a film mix puts it, alone in FC at 0.5, with music in FL/FR, bass in LFE and ambience
 * (pink noise) in the surrounds. Both go through the same AAC encode (-c:a aac -b:a 128k), and the dialogue level
 * of the result is the RMS of each channel after a narrow band-pass at 1 kHz. The rule: the 5.1 downmix's
 * dialogue never more than 3 dB below the stereo original's. The figures are printed and kept in
 * docs/audio-downmix.md.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stereoDownmixFilters, surroundFilters, SURROUND_LAYOUT } from '../../src/transcode/args/downmix.js';
import { FFMPEG, makeTempDir, probeJson, removeDir, runFfmpeg } from '../helpers/media.js';

const execFileP = promisify(execFile);

const SECONDS = 1;
const RATE = 48_000;
/** Narrow enough that music (200 Hz), bass (60 Hz) and the pink-noise ambience hardly reach the measure. */
const DIALOGUE_BAND = 'bandpass=f=1000:width_type=q:w=8,bandpass=f=1000:width_type=q:w=8';

/** Mono float sources (amerge wants one sample format); levels are set by the pan that places them. */
const FLOAT_MONO = 'aformat=sample_fmts=fltp:channel_layouts=mono';
/** A full-scale tone (lavfi's sine is 1/8 of full scale, hence volume=8). */
const tone = (hz: number): string =>
  `sine=frequency=${hz}:sample_rate=${RATE}:duration=${SECONDS},${FLOAT_MONO},volume=8`;
const noise = (seed: number): string =>
  `anoisesrc=color=pink:sample_rate=${RATE}:duration=${SECONDS}:amplitude=1:seed=${seed},${FLOAT_MONO}`;

/** A filter_complex that merges mono inputs into one stream and places them with a pan, as [m0], [m1]... */
function mixGraph(inputs: string[], pan: string, copies = 1): string {
  const labels = inputs.map((_, i) => `[i${i}]`).join('');
  const outs = Array.from({ length: copies }, (_, i) => `[m${i}]`).join('');
  const split = copies > 1 ? `,asplit=${copies}` : '';
  return [
    ...inputs.map((src, i) => `${src}[i${i}]`),
    `${labels}amerge=inputs=${inputs.length},${pan}${split}${outs}`,
  ].join(';');
}

let dir: string;
const file = (name: string): string => path.join(dir, name);
/** Channels and layout of every generated source, as ffprobe reports them (what the worker's plan gets). */
const sources = new Map<string, { channels: number; layout?: string }>();
/** Dialogue level of the stereo original after the AAC encode: what every downmix is compared with. */
let reference: number;
const figures: Array<[string, string]> = [];
const record = (what: string, db: number): void => void figures.push([what, `${db.toFixed(2)} dB`]);

interface Levels {
  /** Per channel, dBFS. */
  rms: number[];
  peak: number[];
  /** Dialogue: the mean over the channels of the RMS in the 1 kHz band. */
  dialogue: number;
}

/** Levels of each file's first audio stream, all read by one ffmpeg run (one astats for the full band, one for the dialogue band, per file). */
async function measure(...inputs: string[]): Promise<Levels[]> {
  const graph = inputs.map(
    (_, i) =>
      `[${i}:a:0]asplit[w${i}][n${i}];[w${i}]astats=measure_overall=none[ow${i}];` +
      `[n${i}]${DIALOGUE_BAND},astats=measure_overall=none[on${i}]`,
  );
  const sinks = inputs.flatMap((_, i) => [
    '-map',
    `[ow${i}]`,
    '-f',
    'null',
    '-',
    '-map',
    `[on${i}]`,
    '-f',
    'null',
    '-',
  ]);
  const { stderr } = await execFileP(
    FFMPEG,
    ['-hide_banner', '-nostats', ...inputs.flatMap((f) => ['-i', f]), '-filter_complex', graph.join(';'), ...sinks],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  // astats instances are numbered in graph order: file 0 full band, file 0 dialogue band, file 1 full band, ...
  const stats = new Map<number, { rms: number[]; peak: number[] }>();
  const db = (v: string): number => (v.includes('inf') ? -Infinity : Number(v));
  for (const m of stderr.matchAll(/\[Parsed_astats_(\d+) @ [^\]]+\] (RMS|Peak) level dB: (\S+)/g)) {
    const entry = stats.get(Number(m[1])) ?? { rms: [], peak: [] };
    stats.set(Number(m[1]), entry);
    (m[2] === 'RMS' ? entry.rms : entry.peak).push(db(m[3]!));
  }
  const ordered = [...stats.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
  expect(ordered).toHaveLength(inputs.length * 2);
  return inputs.map((_, i) => {
    const band = ordered[2 * i + 1]!.rms;
    return { ...ordered[2 * i]!, dialogue: band.reduce((a, b) => a + b, 0) / band.length };
  });
}

async function probeAudio(input: string): Promise<{ channels: number; layout?: string }> {
  const s = (await probeJson(input)).streams.find((x) => x['codec_type'] === 'audio')!;
  return { channels: Number(s['channels']), layout: s['channel_layout'] as string | undefined };
}

/** Encodes a source with our stereo chain (from its probed layout) and, when asked, with plain -ac 2, to AAC. */
async function toAac(src: string, out: string, ac2Out?: string): Promise<string[]> {
  const chain = stereoDownmixFilters(sources.get(src)!);
  const aac = ['-c:a', 'aac', '-b:a', '128k'];
  const graph = `[0:a:0]${chain.join(',') || 'anull'}[d]`;
  const args = ['-i', file(src), '-filter_complex', graph, '-map', '[d]', ...aac, file(out)];
  if (ac2Out) args.push('-map', '0:a:0', '-ac', '2', ...aac, file(ac2Out));
  await runFfmpeg(args);
  return chain;
}

beforeAll(async () => {
  dir = await makeTempDir('tw-downmix-');
  const mix51 = mixGraph(
    [tone(1000), tone(200), tone(60), noise(1), noise(2)],
    'pan=5.1|FL=0.1*c1|FR=0.1*c1|FC=0.5*c0|LFE=0.25*c2|BL=0.05*c3|BR=0.05*c4',
    3,
  );
  await Promise.all([
    // One 5.1 mix, three sources: AC-3 (a float decoder, 5.1(side)), PCM s16 in WAV (integer, labelled 5.1) and
    // PCM s16 in Matroska (integer, and Matroska stores no layout: ffprobe gives none).
    runFfmpeg([
      '-filter_complex', mix51,
      '-map', '[m0]', '-c:a', 'ac3', '-b:a', '640k', file('mix51.ac3'),
      '-map', '[m1]', '-c:a', 'pcm_s16le', file('mix51.wav'),
      '-map', '[m2]', '-c:a', 'pcm_s16le', file('mix51.mkv'),
    ]), // prettier-ignore
    runFfmpeg([
      '-filter_complex',
      mixGraph([tone(1000), tone(200)], 'pan=stereo|FL=0.3536*c0+0.1*c1|FR=0.3536*c0+0.1*c1'),
      ...['-map', '[m0]', '-c:a', 'pcm_s16le', file('stereo.wav')],
    ]),
    // Back surrounds carry a 3 kHz tone so the 7.1 -> 5.1 fold can be seen in the side channels.
    runFfmpeg([
      '-filter_complex',
      mixGraph(
        [tone(1000), tone(200), tone(60), tone(3000), noise(3)],
        'pan=7.1|FL=0.1*c1|FR=0.1*c1|FC=0.5*c0|LFE=0.25*c2|BL=0.25*c3|BR=0.25*c3|SL=0.05*c4|SR=0.05*c4',
      ),
      ...['-map', '[m0]', '-c:a', 'pcm_s16le', file('mix71.wav')],
    ]),
    runFfmpeg(['-filter_complex', mixGraph([tone(1000)], 'pan=mono|FC=0.5*c0'), '-map', '[m0]', file('mono.wav')]),
    // Hot: every channel a different tone at -1 dBFS, so the sums reach past full scale.
    runFfmpeg([
      '-filter_complex',
      mixGraph(
        [tone(440), tone(554), tone(1000), tone(60), tone(330), tone(660)],
        'pan=5.1|FL=0.891*c0|FR=0.891*c1|FC=0.891*c2|LFE=0.891*c3|BL=0.891*c4|BR=0.891*c5',
      ),
      ...['-map', '[m0]', '-c:a', 'pcm_s16le', file('hot51.wav')],
    ]),
  ]);
  const names = ['mix51.ac3', 'mix51.wav', 'mix51.mkv', 'stereo.wav', 'mix71.wav', 'mono.wav', 'hot51.wav'];
  for (const [i, probed] of (await Promise.all(names.map((n) => probeAudio(file(n))))).entries()) {
    sources.set(names[i]!, probed);
  }
  await toAac('stereo.wav', 'stereo.m4a');
  reference = (await measure(file('stereo.m4a')))[0]!.dialogue;
  record('stereo original -> AAC: dialogue (dBFS RMS)', reference);
});

afterAll(async () => {
  if (figures.length) console.info(figures.map(([k, v]) => `${k.padEnd(72)} ${v}`).join('\n'));
  await removeDir(dir);
});

describe('stereo downmix for the AAC group (real ffmpeg, measured)', () => {
  it('keeps 5.1 dialogue within 3 dB of the stereo original, from a float (AC-3) and an integer (PCM) source', async () => {
    const srcs = ['mix51.ac3', 'mix51.wav', 'mix51.mkv'];
    const chains = await Promise.all(srcs.map((s) => toAac(s, `${s}.m4a`, `${s}.ac2.m4a`)));
    for (const chain of chains) expect(chain.join(',')).toContain('pan=stereo|');
    const results = await measure(...srcs.flatMap((s) => [file(`${s}.m4a`), file(`${s}.ac2.m4a`)]));
    srcs.forEach((src, i) => {
      const label = `5.1 ${src} (layout ${sources.get(src)!.layout ?? 'none'})`;
      const ours = results[2 * i]!.dialogue - reference;
      record(`${label} downmix: dialogue vs stereo original`, ours);
      record(`${label} plain -ac 2: dialogue vs stereo original`, results[2 * i + 1]!.dialogue - reference);
      // The rule; and not louder than the original by more than 3 dB either (a wrong matrix).
      expect(ours).toBeGreaterThan(-3);
      expect(ours).toBeLessThan(3);
    });
  });

  it('never clips a hot 5.1 mix, where plain -ac 2 goes past full scale', async () => {
    const chain = await toAac('hot51.wav', 'hot.m4a', 'hot.ac2.m4a');
    expect(chain.join(',')).toContain('alimiter=');
    const [ours, ac2] = await measure(file('hot.m4a'), file('hot.ac2.m4a'));
    const oursPeak = Math.max(...ours!.peak);
    const ac2Peak = Math.max(...ac2!.peak);
    record('hot 5.1 (every channel -1 dBFS) downmix -> AAC: peak (dBFS)', oursPeak);
    record('hot 5.1 (every channel -1 dBFS) plain -ac 2 -> AAC: peak (dBFS)', ac2Peak);
    expect(oursPeak).toBeLessThanOrEqual(0);
    // The fault the explicit chain fixes: ffmpeg's own matrix either clips or (normalised) drops the dialogue.
    expect(ac2Peak > 0 || ac2!.dialogue - ours!.dialogue < -3).toBe(true);
  });

  it('makes 2 channels from 7.1 and from mono, with the dialogue kept', async () => {
    const srcs = ['mix71.wav', 'mono.wav'];
    await Promise.all(srcs.map((s) => toAac(s, `${s}.m4a`)));
    const results = await measure(...srcs.map((s) => file(`${s}.m4a`)));
    for (const [i, src] of srcs.entries()) {
      expect(await probeAudio(file(`${src}.m4a`))).toEqual({ channels: 2, layout: 'stereo' });
      const diff = results[i]!.dialogue - reference;
      record(`${src} (layout ${sources.get(src)!.layout ?? 'none'}) downmix: dialogue vs stereo original`, diff);
      expect(Math.abs(diff)).toBeLessThan(1.5);
    }
  });

  it('does not move the audio in time (the limiter look-ahead is compensated)', async () => {
    // A click in FL, FC and BL at exactly 0.5 s: the sum (2.4x full scale) makes the limiter act on it.
    const click = `if(eq(n\\,${RATE / 2})\\,1\\,0)`;
    const chain = stereoDownmixFilters({ channels: 6, layout: '5.1' });
    const { stdout } = await execFileP(
      FFMPEG,
      [
        ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i'],
        `aevalsrc=exprs=${click}|0|${click}|0|${click}|0:channel_layout=5.1:sample_rate=${RATE}:duration=${SECONDS}`,
        ...['-af', chain.join(','), '-f', 'f32le', '-'],
      ],
      { encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
    );
    const samples = new Float32Array(stdout.buffer, stdout.byteOffset, stdout.byteLength / 4);
    expect(samples.length).toBe(SECONDS * RATE * 2);
    let loudest = 0;
    for (let i = 0; i < samples.length; i++) if (Math.abs(samples[i]!) > Math.abs(samples[loudest]!)) loudest = i;
    expect(Math.floor(loudest / 2)).toBe(RATE / 2);
    expect(Math.abs(samples[loudest]!)).toBeLessThanOrEqual(0.7944);
  });
});

describe('surround filters for the AC-3 / E-AC-3 group (real ffmpeg)', () => {
  it('folds 7.1 into 5.1(side): back surrounds into the sides at -3 dB, dialogue kept in FC', async () => {
    const source = sources.get('mix71.wav')!;
    expect(source).toEqual({ channels: 8, layout: '7.1' });
    const graph = `[0:a:0]${surroundFilters(source)!.join(',')},asplit[e][a]`;
    await runFfmpeg([
      ...['-i', file('mix71.wav'), '-filter_complex', graph],
      ...['-map', '[e]', '-c:a', 'eac3', '-b:a', '384k', file('mix71.eac3.mp4')],
      ...['-map', '[a]', '-c:a', 'ac3', '-b:a', '448k', file('mix71.ac3')],
    ]);
    const outs = ['mix71.eac3.mp4', 'mix71.ac3'];
    const results = await measure(...outs.map(file));
    for (const [i, out] of outs.entries()) {
      expect(await probeAudio(file(out))).toEqual({ channels: 6, layout: SURROUND_LAYOUT });
      const { rms } = results[i]!;
      // FC: the dialogue alone, 0.5 -> -9.03 dB RMS. SL: BL's 3 kHz tone at 0.25 x 0.7071 -> -18.06 dB.
      record(`7.1 -> ${out}: FC (dialogue) RMS, expected -9.03`, rms[2]!);
      record(`7.1 -> ${out}: SL (folded back surround) RMS, expected -18.06`, rms[4]!);
      expect(Math.abs(rms[2]! + 9.03)).toBeLessThan(1);
      expect(Math.abs(rms[4]! + 18.06)).toBeLessThan(1.5);
    }
  });

  it('gives no surround rendition for 2 channels or fewer, and one 5.1 layout for everything above', () => {
    expect(surroundFilters({ channels: 2, layout: 'stereo' })).toBeNull();
    expect(surroundFilters({ channels: 1, layout: 'mono' })).toBeNull();
    expect(surroundFilters({ channels: 6, layout: '5.1(side)' })).toEqual([]);
    expect(surroundFilters({ channels: 6, layout: '5.1' })!.join(',')).toContain(
      'pan=5.1(side)|FL=c0|FR=c1|FC=c2|LFE=c3|SL=c4|SR=c5',
    );
    // 5.0 gets a silent LFE (absent from the pan); an unlabelled 6-channel stream is read as 5.1.
    expect(surroundFilters({ channels: 5, layout: '5.0' })!.join(',')).toContain('|FC=c2|SL=c3|SR=c4');
    expect(surroundFilters({ channels: 6, layout: 'unknown' })).toEqual(
      surroundFilters({ channels: 6, layout: '5.1' }),
    );
  });
});

describe('stereo chains (pure)', () => {
  it('leaves stereo alone, centres mono at -3 dB, and builds from indexes whatever the layout says', () => {
    expect(stereoDownmixFilters({ channels: 2, layout: 'stereo' })).toEqual([]);
    expect(stereoDownmixFilters({ channels: 2 })).toEqual([]);
    expect(stereoDownmixFilters({ channels: 1, layout: 'mono' })).toEqual([
      'aformat=sample_fmts=fltp',
      'pan=stereo|FL=0.7071*c0|FR=0.7071*c0',
    ]);
    // LFE (c3) dropped, centre and surrounds at -3 dB, mixed in float and limited.
    expect(stereoDownmixFilters({ channels: 6, layout: '5.1(side)' })).toEqual([
      'aformat=sample_fmts=fltp',
      'pan=stereo|FL=c0+0.7071*c2+0.7071*c4|FR=c1+0.7071*c2+0.7071*c5',
      'alimiter=limit=0.794:attack=5:release=200:level=0:latency=1',
    ]);
    expect(stereoDownmixFilters({ channels: 4, layout: '4 channels (FL+FR+LFE+BC)' })[1]).toBe(
      'pan=stereo|FL=c0+0.5*c3|FR=c1+0.5*c3',
    );
    // A layout whose count disagrees with the stream is ignored; channels past 8 of an unlabelled stream stay audible.
    expect(stereoDownmixFilters({ channels: 6, layout: '7.1' })).toEqual(stereoDownmixFilters({ channels: 6 }));
    expect(stereoDownmixFilters({ channels: 10 })[1]).toMatch(/\+0\.5\*c8\+0\.5\*c9\|FR=/);
  });
});
