/**
 * Golden argv tests: the exact ffmpeg command for each hardware family and each special case, pinned in
 * __golden__/*.argv (one option per line, easy to review in a diff). A change must be deliberate: review the diff of
 * the golden file, then update it with `npx vitest run test/unit/transcode/args.golden.test.ts -u`.
 * The software family's argv is also run for real in test/integration/args-real.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, buildFilterGraph } from '../../../src/transcode/args/index.js';
import { planTranscode, type PlanOptions } from '../../../src/transcode/plan.js';
import type { SourceInfo } from '../../../src/transcode/types.js';
import type { ValidatedJob } from '../../../src/transcode/validated-job.js';
import {
  ladderOf,
  makePlanOptions,
  makeSourceInfo,
  makeValidatedJob,
  NAS,
  STAGING,
  disposition,
  subtitleStream,
} from '../../helpers/plan-fixtures.js';

const hdr10 = makeSourceInfo(
  {
    codec: 'hevc',
    width: 3840,
    height: 2160,
    pixFmt: 'yuv420p10le',
    bitDepth: 10,
    hdr: 'pq',
    colorTransfer: 'smpte2084',
  },
  [
    { index: 1, channels: 6, isDefault: true },
    { index: 2, channels: 2, isDefault: false },
  ],
);

function argv(v: ValidatedJob, source: SourceInfo, opts: PlanOptions): string[] {
  return buildFfmpegArgs(planTranscode(v, source, opts));
}

/** The argv as one line per option, easier to review than a long array. */
function pretty(args: string[]): string {
  const lines: string[] = [];
  for (const a of args) {
    if (a.startsWith('-') && !/^-\d/.test(a)) lines.push(a);
    else if (lines.length) lines[lines.length - 1] += ` ${a}`;
    else lines.push(a);
  }
  return lines.join('\n');
}

describe('buildFfmpegArgs: software', () => {
  it('three-rung libx264 ladder, MPEG-TS, the audio track encoded once (exact array)', () => {
    const args = argv(makeValidatedJob(ladderOf()), makeSourceInfo(), makePlanOptions());
    expect(args).toEqual([
      '-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats',
      '-protocol_whitelist', 'file', '-f', 'matroska', '-i', `file:${NAS}/movies/a.mkv`,
      '-filter_complex',
      '[0:0]split=3[s0][s1][s2];' +
        '[s0]scale=w=1920:h=1080,setsar=1,format=yuv420p[v0];' +
        '[s1]scale=w=1280:h=720,setsar=1,format=yuv420p[v1];' +
        '[s2]scale=w=854:h=480,setsar=1,format=yuv420p[v2];' +
        '[0:1]aresample=48000:async=1:first_pts=0[a0]',
      '-map', '[v0]', '-map', '[v1]', '-map', '[v2]', '-map', '[a0]',
      '-c:v:0', 'libx264', '-preset:v:0', 'fast', '-profile:v:0', 'high', '-sc_threshold:v:0', '0',
      '-b:v:0', '5000k', '-maxrate:v:0', '6000k', '-bufsize:v:0', '10000k',
      '-g:v:0', '150', '-keyint_min:v:0', '150', '-force_key_frames:v:0', 'expr:gte(t,n_forced*6)',
      '-c:v:1', 'libx264', '-preset:v:1', 'fast', '-profile:v:1', 'high', '-sc_threshold:v:1', '0',
      '-b:v:1', '2500k', '-maxrate:v:1', '3000k', '-bufsize:v:1', '5000k',
      '-g:v:1', '150', '-keyint_min:v:1', '150', '-force_key_frames:v:1', 'expr:gte(t,n_forced*6)',
      '-c:v:2', 'libx264', '-preset:v:2', 'fast', '-profile:v:2', 'high', '-sc_threshold:v:2', '0',
      '-b:v:2', '1000k', '-maxrate:v:2', '1200k', '-bufsize:v:2', '2000k',
      '-g:v:2', '150', '-keyint_min:v:2', '150', '-force_key_frames:v:2', 'expr:gte(t,n_forced*6)',
      '-c:a:0', 'aac', '-b:a:0', '128k',
      '-sn', '-dn', '-map_metadata', '-1', '-map_chapters', '-1', '-max_muxing_queue_size', '4096',
      '-output_ts_offset', '1', '-f', 'hls', '-hls_time', '6', '-hls_playlist_type', 'event', '-hls_flags', 'independent_segments+temp_file',
      '-hls_segment_type', 'mpegts',
      '-hls_segment_filename', `${STAGING}/%v/seg_%05d.ts`,
      '-var_stream_map', 'v:0,name:v0 v:1,name:v1 v:2,name:v2 a:0,name:index_tracks/a0',
      `${STAGING}/%v/stream.m3u8`,
    ]); // prettier-ignore
  });

  it('three audio tracks, two text subtitles, an image subtitle: each audio once, whole WebVTT outputs', async () => {
    const src = makeSourceInfo(
      {},
      [
        { index: 1, channels: 6, channelLayout: '5.1(side)', language: 'eng' },
        { index: 2, channels: 2, language: 'fre', isDefault: false },
        { index: 3, channels: 1, language: 'eng', isDefault: false, title: 'Commentary' },
      ],
      {
        subtitles: [
          subtitleStream({ index: 4, language: 'eng' }),
          subtitleStream({ index: 5, codec: 'hdmv_pgs_subtitle', language: 'ger' }),
          subtitleStream({ index: 6, codec: 'ass', language: 'fre', disposition: disposition({ forced: true }) }),
        ],
      },
    );
    const v = makeValidatedJob(ladderOf().slice(0, 2), {
      audio: { codec: 'aac', bitrate: 128_000, surround: { codec: 'eac3', bitrate: 384_000 }, languages: [] },
    });
    const plan = planTranscode(v, src, makePlanOptions());
    expect(plan.skippedSubtitles).toEqual([expect.objectContaining({ index: 5, codec: 'hdmv_pgs_subtitle' })]);
    await expect(pretty(buildFfmpegArgs(plan))).toMatchFileSnapshot('./__golden__/software-languages.argv');
  });

  it('HDR10 HEVC 4K with 5.1 default audio -> libx265 fMP4: shrink, tone map once, tag BT.709, hvc1', async () => {
    const v = makeValidatedJob(ladderOf('libx265'), { segmentType: 'fmp4', segmentTime: 4 });
    await expect(
      pretty(argv(v, { ...hdr10, video: { ...hdr10.video!, fps: 24 } }, makePlanOptions())),
    ).toMatchFileSnapshot('./__golden__/software-hdr10-x265-fmp4.argv');
  });

  it('no audio: no audio maps, var_stream_map without a:N', () => {
    const args = argv(makeValidatedJob(ladderOf()), makeSourceInfo({}, []), makePlanOptions());
    expect(args.filter((a) => a.startsWith('0:'))).toEqual([]);
    expect(args.some((a) => a.includes(':a:'))).toBe(false);
    expect(args[args.indexOf('-var_stream_map') + 1]).toBe('v:0,name:v0 v:1,name:v1 v:2,name:v2');
  });

  it('portrait (rotated phone video), single rendition in the master folder, interlaced', async () => {
    const v = makeValidatedJob([{ res: '720p', dest: 'processed/phone/720p' }]);
    const src = makeSourceInfo({ rotation: 90, interlaced: true, fps: 30 });
    await expect(pretty(argv(v, src, makePlanOptions()))).toMatchFileSnapshot(
      './__golden__/software-portrait-interlaced.argv',
    );
  });
});

describe('buildFfmpegArgs: hardware families', () => {
  it('NVIDIA: cuda decode, frames on the GPU, scale_cuda, nvenc', async () => {
    const opts = makePlanOptions({ verified: ['libx264', 'h264_nvenc'], hwaccels: ['cuda'], hwDevice: '0' });
    const src = makeSourceInfo({ interlaced: true });
    await expect(pretty(argv(makeValidatedJob(ladderOf('h264_nvenc')), src, opts))).toMatchFileSnapshot(
      './__golden__/nvidia-sdr.argv',
    );
  });

  it('NVIDIA + HDR: cuda decode, frames downloaded, CPU tone map, nvenc from system memory', async () => {
    const opts = makePlanOptions({ verified: ['libx264', 'hevc_nvenc'], hwaccels: ['cuda'] });
    const v = makeValidatedJob(ladderOf('hevc_nvenc').slice(0, 2));
    await expect(pretty(argv(v, hdr10, opts))).toMatchFileSnapshot('./__golden__/nvidia-hdr10.argv');
  });

  it('Intel QSV: qsv decode, scale_qsv, h264_qsv', async () => {
    const opts = makePlanOptions({
      verified: ['libx264', 'h264_qsv'],
      hwaccels: ['qsv'],
      hwDevice: '/dev/dri/renderD129',
    });
    await expect(
      pretty(argv(makeValidatedJob(ladderOf('h264_qsv').slice(0, 2)), makeSourceInfo(), opts)),
    ).toMatchFileSnapshot('./__golden__/qsv.argv');
  });

  it('VAAPI + HDR10: vaapi decode, tonemap_vaapi, scale_vaapi, h264_vaapi', async () => {
    const opts = makePlanOptions({ verified: ['libx264', 'h264_vaapi'], hwaccels: ['vaapi'] });
    await expect(pretty(argv(makeValidatedJob(ladderOf('h264_vaapi').slice(0, 2)), hdr10, opts))).toMatchFileSnapshot(
      './__golden__/vaapi-hdr10.argv',
    );
  });

  it('VAAPI without hardware decode: CPU scale then hwupload', () => {
    const opts = makePlanOptions({
      verified: ['libx264', 'h264_vaapi'],
      hwaccels: [],
      hwDevice: '/dev/dri/renderD128',
    });
    const graph = buildFilterGraph(
      planTranscode(makeValidatedJob(ladderOf('h264_vaapi').slice(0, 1)), makeSourceInfo(), opts),
    );
    expect(graph).toBe('[0:0]scale=w=1920:h=1080,setsar=1,format=nv12,hwupload[v0]');
  });

  it('Raspberry Pi: CPU decode and scale, h264_v4l2m2m', async () => {
    const opts = makePlanOptions({
      verified: ['libx264', 'h264_v4l2m2m'],
      hwaccelMode: 'v4l2m2m',
      softwarePreset: 'veryfast',
    });
    await expect(
      pretty(argv(makeValidatedJob(ladderOf('h264_v4l2m2m').slice(1)), makeSourceInfo(), opts)),
    ).toMatchFileSnapshot('./__golden__/raspberry-pi-v4l2m2m.argv');
  });

  it('AMD AMF: CPU decode and scale, h264_amf', () => {
    const opts = makePlanOptions({ verified: ['libx264', 'h264_amf'] });
    const args = argv(makeValidatedJob(ladderOf('h264_amf').slice(2)), makeSourceInfo(), opts);
    expect(args.slice(args.indexOf('-c:v:0'), args.indexOf('-b:v:0'))).toEqual([
      '-c:v:0', 'h264_amf', '-quality:v:0', 'balanced', '-rc:v:0', 'vbr_peak',
    ]); // prettier-ignore
  });

  it('fallback mix: two nvenc sessions allowed, the smallest rung on libx264 fed by scale_cuda + hwdownload', async () => {
    const opts = makePlanOptions({ verified: ['libx264', 'h264_nvenc'], hwaccels: ['cuda'], maxSessions: 2 });
    await expect(pretty(argv(makeValidatedJob(ladderOf('h264_nvenc')), makeSourceInfo(), opts))).toMatchFileSnapshot(
      './__golden__/nvidia-session-cap-mix.argv',
    );
  });
});

describe('buildFfmpegArgs: NVDEC with software encoders (a GPU without NVENC)', () => {
  const opts = makePlanOptions({ verified: ['libx264'], hwaccels: ['cuda'], hwDevice: '1' });
  const head = (args: string[]): string[] => args.slice(0, args.indexOf('-i'));

  it('SDR: cuda decode on device 1, scale_cuda per rung, then hwdownload to yuv420p for libx264', () => {
    const plan = planTranscode(makeValidatedJob(ladderOf('h264_nvenc')), makeSourceInfo(), opts);
    const args = buildFfmpegArgs(plan);
    expect(head(args).slice(8, -4)).toEqual([
      '-hwaccel', 'cuda', '-hwaccel_device', '1', '-hwaccel_output_format', 'cuda',
    ]); // prettier-ignore
    expect(buildFilterGraph(plan).split(';')).toEqual([
      '[0:0]split=3[s0][s1][s2]',
      '[s0]scale_cuda=w=1920:h=1080:format=yuv420p,setsar=1,hwdownload,format=yuv420p[v0]',
      '[s1]scale_cuda=w=1280:h=720:format=yuv420p,setsar=1,hwdownload,format=yuv420p[v1]',
      '[s2]scale_cuda=w=854:h=480:format=yuv420p,setsar=1,hwdownload,format=yuv420p[v2]',
    ]);
    expect(args.filter((a) => a === 'libx264')).toHaveLength(3);
  });

  it('HDR10: the CPU decodes and tone maps (a download of every 4K frame measured no faster)', () => {
    const plan = planTranscode(makeValidatedJob(ladderOf('libx264')), hdr10, opts);
    const args = buildFfmpegArgs(plan);
    expect(head(args)).not.toContain('-hwaccel');
    const graph = buildFilterGraph(plan);
    expect(graph).toContain('tonemap=hable');
    expect(graph).not.toContain('cuda');
  });
});

describe('buildFfmpegArgs: colour tags of tone-mapped frames (ffmpeg 7.1+ ignores the output options)', () => {
  const tags = 'setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv';
  const dropHdr = 'sidedata=mode=delete:type=MASTERING_DISPLAY_METADATA,sidedata=mode=delete:type=CONTENT_LIGHT_LEVEL';
  const hlg = { ...hdr10, video: { ...hdr10.video!, hdr: 'hlg' as const, colorTransfer: 'arib-std-b67' } };
  const cases: Array<[string, SourceInfo, PlanOptions, string]> = [
    ['software PQ', hdr10, makePlanOptions(), 'libx264'],
    ['NVIDIA PQ', hdr10, makePlanOptions({ verified: ['h264_nvenc'], hwaccels: ['cuda'] }), 'h264_nvenc'],
    ['QSV PQ', hdr10, makePlanOptions({ verified: ['h264_qsv'], hwaccels: ['qsv'] }), 'h264_qsv'],
    ['VAAPI HLG (CPU chain)', hlg, makePlanOptions({ verified: ['h264_vaapi'], hwaccels: ['vaapi'] }), 'h264_vaapi'],
  ];
  it.each(cases)(
    '%s: the CPU tone map ends with setparams and drops HDR side data, before the split',
    (_name, src, opts, encoder) => {
      const plan = planTranscode(makeValidatedJob(ladderOf(encoder)), src, opts);
      const head = buildFilterGraph(plan).split(';')[0]!;
      expect(head).toMatch(
        new RegExp(`tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p,${tags},${dropHdr},split=`),
      );
      // The output options stay too (older encoders read them).
      expect(buildFfmpegArgs(plan)).toContain('-color_trc:v:0');
    },
  );

  it('VAAPI PQ: tonemap_vaapi tags its output frames itself (t, m, p), then the same setparams on the GPU frames', () => {
    // setparams and sidedata touch frame properties only: checked on Vulkan frames with ffmpeg 5.1 and 7.1, and
    // the probe runs this very chain on the VAAPI device before a job may use it.
    const plan = planTranscode(
      makeValidatedJob(ladderOf('h264_vaapi')),
      hdr10,
      makePlanOptions({ verified: ['h264_vaapi'], hwaccels: ['vaapi'] }),
    );
    const graph = buildFilterGraph(plan);
    expect(graph).toContain(`tonemap_vaapi=format=nv12:t=bt709:m=bt709:p=bt709,${tags},${dropHdr},split=`);
  });

  it('SDR sources get no colour rewrite', () => {
    const plan = planTranscode(makeValidatedJob(ladderOf()), makeSourceInfo(), makePlanOptions());
    expect(buildFilterGraph(plan)).not.toContain('setparams');
  });
});

describe('buildFfmpegArgs: safety', () => {
  it('reads the source as a local file with the file protocol only, through the demuxer the probe found', () => {
    const mp4 = makeSourceInfo({}, [{}], { formatName: 'mov,mp4,m4a,3gp,3g2,mj2' });
    const args = argv(makeValidatedJob(ladderOf()), mp4, makePlanOptions());
    const i = args.indexOf('-i');
    expect(args.slice(i - 4, i + 2)).toEqual([
      '-protocol_whitelist', 'file', '-f', 'mov', '-i', `file:${NAS}/movies/a.mkv`,
    ]); // prettier-ignore
    // Only one input, and the whitelist is an input option: the outputs and "-progress pipe:1" are not limited.
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(args.indexOf('-protocol_whitelist')).toBeGreaterThan(args.indexOf('pipe:1'));
  });

  it('refuses to build a command for a format the probe did not accept', () => {
    const hls = makeSourceInfo({}, [{}], { formatName: 'hls' });
    expect(() => argv(makeValidatedJob(ladderOf()), hls, makePlanOptions())).toThrow(/was not checked by the probe/);
  });

  it('never lets a job value be read as an option: paths absolute, values parsed', () => {
    const v = makeValidatedJob(
      [
        { res: '720p', dest: 'processed/-y/720p' },
        { res: '480p', dest: 'processed/-y/-480p' },
      ],
      { inputPath: `${NAS}/movies/-y .mkv` },
    );
    const args = argv(v, makeSourceInfo(), makePlanOptions());
    expect(args[args.indexOf('-i') + 1]).toBe(`file:${NAS}/movies/-y .mkv`);
    // Every path argument is absolute; the only job-derived strings elsewhere sit inside option values.
    const values = args.filter((a, i) => i > 0 && args[i - 1]!.startsWith('-') && !a.startsWith('-'));
    expect(values.filter((a) => a.includes('-y'))).toEqual([`file:${NAS}/movies/-y .mkv`]);
    // Folder names never reach ffmpeg: the var_stream_map names (and so the %v folders) are synthetic.
    expect(args[args.indexOf('-var_stream_map') + 1]).toBe('v:0,name:v0 v:1,name:v1 a:0,name:index_tracks/a0');
    expect(args.filter((a) => a.includes('processed'))).toEqual([]);
    expect(args.filter((a) => a.startsWith('-4') || a.startsWith('-y '))).toEqual([]);
    expect(args.at(-1)).toBe(`${STAGING}/%v/stream.m3u8`);
  });

  it('writes Windows staging folders with forward slashes for the hls muxer', () => {
    const opts = makePlanOptions({ stagingDir: 'C:\\Temp\\tw\\jobs\\job-1' });
    const args = argv(makeValidatedJob(ladderOf().slice(0, 1)), makeSourceInfo(), opts);
    expect(args.at(-1)).toBe('C:/Temp/tw/jobs/job-1/%v/stream.m3u8');
  });
});
