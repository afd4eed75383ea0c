/**
 * The demo's multilingual sample (src/media/sample-source.ts), made by real ffmpeg: two audio languages (English
 * 5.1 with its tone in the centre channel, default; French stereo with another tone) and two subtitle tracks
 * (English; French forced) muxed from SRT text written at run time, each with its language and title tags. Checked
 * with ffprobe, and the tones measured from the decoded audio.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  multilingualSampleArgs,
  SAMPLE_AUDIO_TRACKS,
  SAMPLE_SUBTITLE_TRACKS,
  sampleSrt,
  sampleSubtitleFiles,
} from '../../src/media/sample-source.js';
import { FFMPEG, FFPROBE, makeTempDir, removeDir } from '../helpers/media.js';

const execFileP = promisify(execFile);
const SECONDS = 3;

interface Stream {
  codec_type: string;
  codec_name: string;
  channels?: number;
  tags?: Record<string, string>;
  disposition: Record<string, number>;
}

let dir: string;
let file: string;
let streams: Stream[];

beforeAll(async () => {
  dir = await makeTempDir('tw-demo-sample-');
  file = path.join(dir, 'sample.mkv');
  for (const srt of sampleSubtitleFiles(dir, SECONDS)) await writeFile(srt.path, srt.text);
  const args = multilingualSampleArgs({
    file,
    subtitleDir: dir,
    width: 320,
    height: 180,
    seconds: SECONDS,
    preset: 'ultrafast',
  });
  await execFileP(FFMPEG, args, { timeout: 60_000 });
  const probe = await execFileP(FFPROBE, ['-v', 'error', '-show_streams', '-of', 'json', file]);
  streams = (JSON.parse(probe.stdout) as { streams: Stream[] }).streams;
});
afterAll(async () => {
  await removeDir(dir);
});

const ofType = (type: string) => streams.filter((s) => s.codec_type === type);

/**
 * The frequency of the tone in one channel of an audio track, from its zero crossings between 0.25 s and 1.25 s
 * (past the encoder's start), with hysteresis so low-level noise between tones does not count; and its peak.
 */
async function toneHz(audioIndex: number, channel: string): Promise<{ hz: number; peak: number }> {
  const { stdout } = await execFileP(
    FFMPEG,
    [
      ...['-v', 'error', '-ss', '0.25', '-i', file, '-map', `0:a:${audioIndex}`, '-af', `pan=mono|c0=${channel}`],
      ...['-t', '1', '-f', 's16le', '-ar', '48000', '-'],
    ],
    { encoding: 'buffer', maxBuffer: 1 << 22 },
  );
  const samples = new Int16Array(stdout.buffer, stdout.byteOffset, stdout.length / 2);
  let crossings = 0;
  let peak = 0;
  let positive: boolean | undefined;
  for (const s of samples) {
    peak = Math.max(peak, Math.abs(s));
    if (Math.abs(s) < 500) continue;
    if (positive !== undefined && s > 0 !== positive) crossings++;
    positive = s > 0;
  }
  return { hz: crossings / 2 / (samples.length / 48000), peak };
}

describe('the demo sample', () => {
  it('has one video, two audio and two subtitle streams', () => {
    expect(streams.map((s) => s.codec_type)).toEqual(['video', 'audio', 'audio', 'subtitle', 'subtitle']);
  });

  it('English 5.1 (AC-3) is the default audio; French stereo (AAC) is not', () => {
    const [en, fr] = ofType('audio');
    expect(en).toMatchObject({ codec_name: 'ac3', channels: 6, tags: { language: 'eng', title: 'English 5.1' } });
    expect(en!.disposition.default).toBe(1);
    expect(fr).toMatchObject({ codec_name: 'aac', channels: 2, tags: { language: 'fre', title: 'Français' } });
    expect(fr!.disposition.default).toBe(0);
  });

  it('English subtitles are neither default nor forced; French ones are forced', () => {
    const [en, fr] = ofType('subtitle');
    expect(en).toMatchObject({ codec_name: 'subrip', tags: { language: 'eng', title: 'English' } });
    expect([en!.disposition.default, en!.disposition.forced]).toEqual([0, 0]);
    expect(fr).toMatchObject({ codec_name: 'subrip', tags: { language: 'fre', title: 'Français (forcé)' } });
    expect(fr!.disposition.forced).toBe(1);
  });

  it('the tracks sound different: 440 Hz in the English centre channel only, 660 Hz in French', async () => {
    const centre = await toneHz(0, 'FC');
    expect(centre.hz).toBeGreaterThan(430);
    expect(centre.hz).toBeLessThan(450);
    expect(centre.peak).toBeGreaterThan(3000);
    expect((await toneHz(0, 'FL')).peak).toBeLessThan(100);
    const french = await toneHz(1, 'FL');
    expect(french.hz).toBeGreaterThan(650);
    expect(french.hz).toBeLessThan(670);
  });

  it('the subtitle streams carry the generated cues, 0.5 s after the picture starts', async () => {
    const video = Number((ofType('video')[0] as Stream & { start_time: string }).start_time);
    for (const [i, track] of SAMPLE_SUBTITLE_TRACKS.entries()) {
      const { stdout: text } = await execFileP(FFMPEG, [
        '-v',
        'error',
        '-i',
        file,
        '-map',
        `0:s:${i}`,
        '-f',
        'srt',
        '-',
      ]);
      expect(text).toContain(`${track.cueText} 1\n`);
      const { stdout } = await execFileP(FFPROBE, [
        ...['-v', 'error', '-select_streams', `s:${i}`, '-show_entries', 'packet=pts_time,duration_time'],
        ...['-of', 'json', file],
      ]);
      const [first] = (JSON.parse(stdout) as { packets: { pts_time: string; duration_time: string }[] }).packets;
      expect(Number(first!.pts_time) - video).toBeCloseTo(0.5, 3);
      expect(Number(first!.duration_time)).toBeCloseTo(1.5, 3);
    }
  });

  it('describes what it makes in its track tables', () => {
    expect(SAMPLE_AUDIO_TRACKS.map((t) => [t.language, t.channels, t.default])).toEqual([
      ['eng', 6, true],
      ['fre', 2, false],
    ]);
    expect(SAMPLE_SUBTITLE_TRACKS.map((t) => [t.language, t.forced])).toEqual([
      ['eng', false],
      ['fre', true],
    ]);
  });
});

describe('sampleSrt', () => {
  const track = SAMPLE_SUBTITLE_TRACKS[0]!;
  it('writes a cue every 2 s from 0.5 s, each 1.5 s long, all within the film', () => {
    expect(sampleSrt(track, 2)).toBe('1\n00:00:00,500 --> 00:00:02,000\nEnglish subtitle 1\n');
    const six = sampleSrt(track, 6);
    expect(six.split('\n\n')).toHaveLength(3);
    expect(six).toContain('3\n00:00:04,500 --> 00:00:06,000\nEnglish subtitle 3\n');
    expect(sampleSrt(track, 3661)).toContain('00:59:58,500 --> 01:00:00,000');
  });

  it('names the SRT files so the worker never takes them for sidecars of the sample ("sample.<lang>.srt")', () => {
    for (const f of sampleSubtitleFiles('/nas/movies', 2)) expect(path.basename(f.path)).not.toMatch(/^sample\./);
  });
});
