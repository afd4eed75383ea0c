/**
 * No GPU here, so the hardware argv cannot run. What CAN be checked against the real ffmpeg: every encoder private
 * option and named value, and every filter and filter option used by each family's argv, exists in this ffmpeg
 * build (a typo would otherwise only show up as a warning or a failure on a GPU host).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, buildFilterGraph } from '../../src/transcode/args/index.js';
import { planTranscode } from '../../src/transcode/plan.js';
import type { TranscodePlan } from '../../src/transcode/types.js';
import { FFMPEG } from '../helpers/media.js';
import { ladderOf, makePlanOptions, makeSourceInfo, makeValidatedJob } from '../helpers/plan-fixtures.js';

const execFileP = promisify(execFile);
const helpCache = new Map<string, Promise<string>>();

function help(topic: string): Promise<string> {
  let h = helpCache.get(topic);
  if (!h) {
    h = execFileP(FFMPEG, ['-hide_banner', '-h', topic], { maxBuffer: 64 * 1024 * 1024 }).then((r) => r.stdout);
    helpCache.set(topic, h);
  }
  return h;
}

/** Generic (AVCodecContext / ffmpeg tool) options that are not the encoder's private ones. */
const GENERIC = new Set(['c', 'b', 'maxrate', 'bufsize', 'g', 'keyint_min', 'force_key_frames', 'colorspace', 'color_primaries', 'color_trc', 'color_range', 'tag', 'ac', 'sc_threshold', 'x265-params', 'pix_fmt']); // prettier-ignore

/** Per-stream options of video stream i: name -> value. */
function streamOptions(args: string[], i: number): Map<string, string> {
  const out = new Map<string, string>();
  args.forEach((a, k) => {
    const m = new RegExp(`^-([\\w-]+):v:${i}$`).exec(a);
    if (m) out.set(m[1]!, args[k + 1]!);
  });
  return out;
}

async function checkEncoderOptions(args: string[], i: number): Promise<void> {
  const opts = streamOptions(args, i);
  const encoder = opts.get('c')!;
  const text = await help(`encoder=${encoder}`);
  expect(text, `${encoder} is not in this ffmpeg`).toContain(`Encoder ${encoder} `);
  for (const [name, value] of opts) {
    if (GENERIC.has(name)) continue;
    const line = new RegExp(`^\\s+-${name}\\s+<(\\w+)>`, 'm').exec(text);
    expect(line, `${encoder} has no option -${name}`).not.toBeNull();
    // Named values of integer options (p4, vbr, high, VBR) must be constants of that option; strings are free.
    if (line![1] !== 'string' && !/^-?\d+$/.test(value))
      expect(text, `${encoder} -${name} has no value ${value}`).toMatch(new RegExp(`^\\s+${value}\\s`, 'm'));
  }
}

async function checkFilters(plan: TranscodePlan): Promise<void> {
  const graph = buildFilterGraph(plan);
  const filters = graph
    .split(/[;,]/)
    .map((f) => f.replace(/\[[^\]]*\]/g, ''))
    .filter(Boolean);
  for (const f of filters) {
    const [name, params] = f.split(/=(.*)/s) as [string, string | undefined];
    const text = await help(`filter=${name}`);
    expect(text, `no filter ${name}`).toContain(`Filter ${name}`);
    for (const kv of (params ?? '').split(':').filter(Boolean)) {
      if (!kv.includes('=')) continue; // positional value (tonemap=hable)
      const key = kv.split('=')[0]!;
      expect(text, `filter ${name} has no option ${key}`).toMatch(new RegExp(`^\\s+${key}\\s`, 'm'));
    }
  }
}

const hdr10 = makeSourceInfo({ codec: 'hevc', pixFmt: 'yuv420p10le', bitDepth: 10, hdr: 'pq', interlaced: true });

const cases: Array<[string, TranscodePlan]> = [
  ['software', planTranscode(makeValidatedJob(ladderOf('libx265')), hdr10, makePlanOptions())],
  [
    'nvidia on device',
    planTranscode(
      makeValidatedJob(ladderOf('h264_nvenc')),
      makeSourceInfo({ interlaced: true }),
      makePlanOptions({ verified: ['h264_nvenc'], hwaccels: ['cuda'] }),
    ),
  ],
  [
    'nvidia hevc + HDR',
    planTranscode(
      makeValidatedJob(ladderOf('hevc_nvenc')),
      hdr10,
      makePlanOptions({ verified: ['hevc_nvenc'], hwaccels: ['cuda'] }),
    ),
  ],
  [
    'qsv on device',
    planTranscode(
      makeValidatedJob(ladderOf('h264_qsv')),
      makeSourceInfo({ interlaced: true }),
      makePlanOptions({ verified: ['h264_qsv'], hwaccels: ['qsv'] }),
    ),
  ],
  [
    'vaapi on device + HDR10',
    planTranscode(
      makeValidatedJob(ladderOf('hevc_vaapi')),
      hdr10,
      makePlanOptions({ verified: ['hevc_vaapi'], hwaccels: ['vaapi'] }),
    ),
  ],
  [
    'vaapi from CPU frames',
    planTranscode(
      makeValidatedJob(ladderOf('h264_vaapi')),
      makeSourceInfo(),
      makePlanOptions({ verified: ['h264_vaapi'] }),
    ),
  ],
  [
    'v4l2m2m',
    planTranscode(
      makeValidatedJob(ladderOf('h264_v4l2m2m')),
      makeSourceInfo(),
      makePlanOptions({ verified: ['h264_v4l2m2m'] }),
    ),
  ],
];

/** Every option name in the argv (per-stream specifiers removed) is known to this ffmpeg (-h full). */
async function checkOptionNames(args: string[]): Promise<void> {
  const full = await help('full');
  const names = new Set<string>();
  args.forEach((a, k) => {
    // An option is a "-name" that is not the value of the previous option ("-map_metadata -1").
    const isValue = k > 0 && /^-\d/.test(a);
    if (!isValue && /^-[a-z]/.test(a)) names.add(a.slice(1).split(':')[0]!);
  });
  names.delete('i'); // the input marker, shown in the usage line only
  for (const name of names) {
    // Boolean tool options are listed without their "no" prefix (-stdin for -nostdin).
    const listed = name.startsWith('no') ? `(${name}|${name.slice(2)})` : name;
    expect(full, `ffmpeg has no option -${name}`).toMatch(new RegExp(`^\\s*-${listed}[\\s[]`, 'm'));
  }
}

describe('every option and filter of every family exists in this ffmpeg', () => {
  it.each(cases)('%s', async (_name, plan) => {
    const args = buildFfmpegArgs(plan);
    await checkOptionNames(args);
    for (let i = 0; i < plan.renditions.length; i++) await checkEncoderOptions(args, i);
    await checkFilters(plan);
  });
});
