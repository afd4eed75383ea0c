/**
 * Golden argv tests: the exact ffmpeg command for each hardware family and each special case, pinned. A change
 * here must be deliberate (review the diff of the snapshot, then update it with `vitest -u`).
 * The software family's argv is also run for real in test/integration/args-real.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildFfmpegArgs, buildFilterGraph } from '../../../src/transcode/args/index.js';
import { planTranscode, type PlanOptions } from '../../../src/transcode/plan.js';
import type { SourceInfo } from '../../../src/transcode/types.js';
import type { ValidatedJob } from '../../../src/transcode/validate.js';
import {
  ladderOf,
  makePlanOptions,
  makeSourceInfo,
  makeValidatedJob,
  NAS,
  STAGING,
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
  it('three-rung libx264 ladder, MPEG-TS (exact array)', () => {
    const args = argv(makeValidatedJob(ladderOf()), makeSourceInfo(), makePlanOptions());
    expect(args).toEqual([
      '-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats',
      '-i', `${NAS}/movies/a.mkv`,
      '-filter_complex',
      '[0:0]split=3[s0][s1][s2];' +
        '[s0]scale=w=1920:h=1080,setsar=1,format=yuv420p[v0];' +
        '[s1]scale=w=1280:h=720,setsar=1,format=yuv420p[v1];' +
        '[s2]scale=w=854:h=480,setsar=1,format=yuv420p[v2]',
      '-map', '[v0]', '-map', '0:1', '-map', '[v1]', '-map', '0:1', '-map', '[v2]', '-map', '0:1',
      '-c:v:0', 'libx264', '-preset:v:0', 'fast', '-profile:v:0', 'high', '-sc_threshold:v:0', '0',
      '-b:v:0', '5000k', '-maxrate:v:0', '6000k', '-bufsize:v:0', '10000k',
      '-g:v:0', '150', '-keyint_min:v:0', '150', '-force_key_frames:v:0', 'expr:gte(t,n_forced*6)',
      '-c:a:0', 'aac', '-ac:a:0', '2', '-b:a:0', '128k',
      '-c:v:1', 'libx264', '-preset:v:1', 'fast', '-profile:v:1', 'high', '-sc_threshold:v:1', '0',
      '-b:v:1', '2500k', '-maxrate:v:1', '3000k', '-bufsize:v:1', '5000k',
      '-g:v:1', '150', '-keyint_min:v:1', '150', '-force_key_frames:v:1', 'expr:gte(t,n_forced*6)',
      '-c:a:1', 'aac', '-ac:a:1', '2', '-b:a:1', '128k',
      '-c:v:2', 'libx264', '-preset:v:2', 'fast', '-profile:v:2', 'high', '-sc_threshold:v:2', '0',
      '-b:v:2', '1000k', '-maxrate:v:2', '1200k', '-bufsize:v:2', '2000k',
      '-g:v:2', '150', '-keyint_min:v:2', '150', '-force_key_frames:v:2', 'expr:gte(t,n_forced*6)',
      '-c:a:2', 'aac', '-ac:a:2', '2', '-b:a:2', '128k',
      '-sn', '-dn', '-map_metadata', '-1', '-map_chapters', '-1', '-max_muxing_queue_size', '4096',
      '-f', 'hls', '-hls_time', '6', '-hls_playlist_type', 'vod', '-hls_flags', 'independent_segments',
      '-hls_segment_type', 'mpegts',
      '-hls_segment_filename', `${STAGING}/%v/seg_%05d.ts`,
      '-master_pl_name', 'index.m3u8',
      '-var_stream_map', 'v:0,a:0,name:v0 v:1,a:1,name:v1 v:2,a:2,name:v2',
      `${STAGING}/%v/stream.m3u8`,
    ]); // prettier-ignore
  });

  it('HDR10 HEVC 4K with 5.1 default audio -> libx265 fMP4: shrink, tone map once, tag BT.709, hvc1', () => {
    const v = makeValidatedJob(ladderOf('libx265'), { segmentType: 'fmp4', segmentTime: 4 });
    expect(pretty(argv(v, { ...hdr10, video: { ...hdr10.video, fps: 24 } }, makePlanOptions()))).toMatchInlineSnapshot(`
      "-hide_banner
      -nostdin
      -y
      -loglevel error
      -progress pipe:1
      -nostats
      -i /mnt/nas/movies/a.mkv
      -filter_complex [0:0]scale=w=1920:h=1080,setsar=1,zscale=tin=smpte2084:min=bt2020nc:pin=bt2020:rin=tv:t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p,split=3[s0][s1][s2];[s0]scale=w=1920:h=1080,setsar=1,format=yuv420p[v0];[s1]scale=w=1280:h=720,setsar=1,format=yuv420p[v1];[s2]scale=w=854:h=480,setsar=1,format=yuv420p[v2]
      -map [v0]
      -map 0:1
      -map [v1]
      -map 0:1
      -map [v2]
      -map 0:1
      -c:v:0 libx265
      -preset:v:0 fast
      -x265-params:v:0 keyint=96:min-keyint=96:scenecut=0:open-gop=0:log-level=error
      -b:v:0 5000k
      -maxrate:v:0 6000k
      -bufsize:v:0 10000k
      -g:v:0 96
      -keyint_min:v:0 96
      -force_key_frames:v:0 expr:gte(t,n_forced*4)
      -colorspace:v:0 bt709
      -color_primaries:v:0 bt709
      -color_trc:v:0 bt709
      -color_range:v:0 tv
      -tag:v:0 hvc1
      -c:a:0 aac
      -ac:a:0 2
      -b:a:0 128k
      -c:v:1 libx265
      -preset:v:1 fast
      -x265-params:v:1 keyint=96:min-keyint=96:scenecut=0:open-gop=0:log-level=error
      -b:v:1 2500k
      -maxrate:v:1 3000k
      -bufsize:v:1 5000k
      -g:v:1 96
      -keyint_min:v:1 96
      -force_key_frames:v:1 expr:gte(t,n_forced*4)
      -colorspace:v:1 bt709
      -color_primaries:v:1 bt709
      -color_trc:v:1 bt709
      -color_range:v:1 tv
      -tag:v:1 hvc1
      -c:a:1 aac
      -ac:a:1 2
      -b:a:1 128k
      -c:v:2 libx265
      -preset:v:2 fast
      -x265-params:v:2 keyint=96:min-keyint=96:scenecut=0:open-gop=0:log-level=error
      -b:v:2 1000k
      -maxrate:v:2 1200k
      -bufsize:v:2 2000k
      -g:v:2 96
      -keyint_min:v:2 96
      -force_key_frames:v:2 expr:gte(t,n_forced*4)
      -colorspace:v:2 bt709
      -color_primaries:v:2 bt709
      -color_trc:v:2 bt709
      -color_range:v:2 tv
      -tag:v:2 hvc1
      -c:a:2 aac
      -ac:a:2 2
      -b:a:2 128k
      -sn
      -dn
      -map_metadata -1
      -map_chapters -1
      -max_muxing_queue_size 4096
      -f hls
      -hls_time 4
      -hls_playlist_type vod
      -hls_flags independent_segments
      -hls_segment_type fmp4
      -hls_fmp4_init_filename init.mp4
      -hls_segment_filename /tmp/tw/jobs/job-1/%v/seg_%05d.m4s
      -master_pl_name index.m3u8
      -var_stream_map v:0,a:0,name:v0 v:1,a:1,name:v1 v:2,a:2,name:v2 /tmp/tw/jobs/job-1/%v/stream.m3u8"
    `);
  });

  it('no audio: no audio maps, var_stream_map without a:N', () => {
    const args = argv(makeValidatedJob(ladderOf()), makeSourceInfo({}, []), makePlanOptions());
    expect(args.filter((a) => a.startsWith('0:'))).toEqual([]);
    expect(args.some((a) => a.includes(':a:'))).toBe(false);
    expect(args[args.indexOf('-var_stream_map') + 1]).toBe('v:0,name:v0 v:1,name:v1 v:2,name:v2');
  });

  it('portrait (rotated phone video), single rendition in the master folder, interlaced', () => {
    const v = makeValidatedJob([{ res: '720p', dest: 'processed/phone/720p' }]);
    const src = makeSourceInfo({ rotation: 90, interlaced: true, fps: 30 });
    expect(pretty(argv(v, src, makePlanOptions()))).toMatchInlineSnapshot(`
      "-hide_banner
      -nostdin
      -y
      -loglevel error
      -progress pipe:1
      -nostats
      -i /mnt/nas/movies/a.mkv
      -filter_complex [0:0]bwdif=mode=send_frame:parity=auto:deint=interlaced,scale=w=720:h=1280,setsar=1,format=yuv420p[v0]
      -map [v0]
      -map 0:1
      -c:v:0 libx264
      -preset:v:0 fast
      -profile:v:0 high
      -sc_threshold:v:0 0
      -b:v:0 2000k
      -maxrate:v:0 2400k
      -bufsize:v:0 4000k
      -g:v:0 180
      -keyint_min:v:0 180
      -force_key_frames:v:0 expr:gte(t,n_forced*6)
      -c:a:0 aac
      -ac:a:0 2
      -b:a:0 128k
      -sn
      -dn
      -map_metadata -1
      -map_chapters -1
      -max_muxing_queue_size 4096
      -f hls
      -hls_time 6
      -hls_playlist_type vod
      -hls_flags independent_segments
      -hls_segment_type mpegts
      -hls_segment_filename /tmp/tw/jobs/job-1/%v/seg_%05d.ts
      -master_pl_name index.m3u8
      -var_stream_map v:0,a:0,name:. /tmp/tw/jobs/job-1/%v/stream.m3u8"
    `);
  });
});

describe('buildFfmpegArgs: hardware families', () => {
  it('NVIDIA: cuda decode, frames on the GPU, scale_cuda, nvenc', () => {
    const opts = makePlanOptions({ verified: ['libx264', 'h264_nvenc'], hwaccels: ['cuda'], hwDevice: '0' });
    const src = makeSourceInfo({ interlaced: true });
    expect(pretty(argv(makeValidatedJob(ladderOf('h264_nvenc')), src, opts))).toMatchInlineSnapshot(`
      "-hide_banner
      -nostdin
      -y
      -loglevel error
      -progress pipe:1
      -nostats
      -hwaccel cuda
      -hwaccel_device 0
      -hwaccel_output_format cuda
      -i /mnt/nas/movies/a.mkv
      -filter_complex [0:0]yadif_cuda=mode=send_frame:parity=auto:deint=interlaced,split=3[s0][s1][s2];[s0]scale_cuda=w=1920:h=1080:format=yuv420p,setsar=1[v0];[s1]scale_cuda=w=1280:h=720:format=yuv420p,setsar=1[v1];[s2]scale_cuda=w=854:h=480:format=yuv420p,setsar=1[v2]
      -map [v0]
      -map 0:1
      -map [v1]
      -map 0:1
      -map [v2]
      -map 0:1
      -c:v:0 h264_nvenc
      -preset:v:0 p4
      -tune:v:0 hq
      -rc:v:0 vbr
      -no-scenecut:v:0 1
      -forced-idr:v:0 1
      -profile:v:0 high
      -b:v:0 5000k
      -maxrate:v:0 6000k
      -bufsize:v:0 10000k
      -g:v:0 150
      -keyint_min:v:0 150
      -force_key_frames:v:0 expr:gte(t,n_forced*6)
      -c:a:0 aac
      -ac:a:0 2
      -b:a:0 128k
      -c:v:1 h264_nvenc
      -preset:v:1 p4
      -tune:v:1 hq
      -rc:v:1 vbr
      -no-scenecut:v:1 1
      -forced-idr:v:1 1
      -profile:v:1 high
      -b:v:1 2500k
      -maxrate:v:1 3000k
      -bufsize:v:1 5000k
      -g:v:1 150
      -keyint_min:v:1 150
      -force_key_frames:v:1 expr:gte(t,n_forced*6)
      -c:a:1 aac
      -ac:a:1 2
      -b:a:1 128k
      -c:v:2 h264_nvenc
      -preset:v:2 p4
      -tune:v:2 hq
      -rc:v:2 vbr
      -no-scenecut:v:2 1
      -forced-idr:v:2 1
      -profile:v:2 high
      -b:v:2 1000k
      -maxrate:v:2 1200k
      -bufsize:v:2 2000k
      -g:v:2 150
      -keyint_min:v:2 150
      -force_key_frames:v:2 expr:gte(t,n_forced*6)
      -c:a:2 aac
      -ac:a:2 2
      -b:a:2 128k
      -sn
      -dn
      -map_metadata -1
      -map_chapters -1
      -max_muxing_queue_size 4096
      -f hls
      -hls_time 6
      -hls_playlist_type vod
      -hls_flags independent_segments
      -hls_segment_type mpegts
      -hls_segment_filename /tmp/tw/jobs/job-1/%v/seg_%05d.ts
      -master_pl_name index.m3u8
      -var_stream_map v:0,a:0,name:v0 v:1,a:1,name:v1 v:2,a:2,name:v2 /tmp/tw/jobs/job-1/%v/stream.m3u8"
    `);
  });

  it('NVIDIA + HDR: cuda decode, frames downloaded, CPU tone map, nvenc from system memory', () => {
    const opts = makePlanOptions({ verified: ['libx264', 'hevc_nvenc'], hwaccels: ['cuda'] });
    const v = makeValidatedJob(ladderOf('hevc_nvenc').slice(0, 2));
    expect(pretty(argv(v, hdr10, opts))).toMatchInlineSnapshot(`
      "-hide_banner
      -nostdin
      -y
      -loglevel error
      -progress pipe:1
      -nostats
      -hwaccel cuda
      -i /mnt/nas/movies/a.mkv
      -filter_complex [0:0]scale=w=1920:h=1080,setsar=1,zscale=tin=smpte2084:min=bt2020nc:pin=bt2020:rin=tv:t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p,split=2[s0][s1];[s0]scale=w=1920:h=1080,setsar=1,format=yuv420p[v0];[s1]scale=w=1280:h=720,setsar=1,format=yuv420p[v1]
      -map [v0]
      -map 0:1
      -map [v1]
      -map 0:1
      -c:v:0 hevc_nvenc
      -preset:v:0 p4
      -tune:v:0 hq
      -rc:v:0 vbr
      -no-scenecut:v:0 1
      -forced-idr:v:0 1
      -b:v:0 5000k
      -maxrate:v:0 6000k
      -bufsize:v:0 10000k
      -g:v:0 150
      -keyint_min:v:0 150
      -force_key_frames:v:0 expr:gte(t,n_forced*6)
      -colorspace:v:0 bt709
      -color_primaries:v:0 bt709
      -color_trc:v:0 bt709
      -color_range:v:0 tv
      -c:a:0 aac
      -ac:a:0 2
      -b:a:0 128k
      -c:v:1 hevc_nvenc
      -preset:v:1 p4
      -tune:v:1 hq
      -rc:v:1 vbr
      -no-scenecut:v:1 1
      -forced-idr:v:1 1
      -b:v:1 2500k
      -maxrate:v:1 3000k
      -bufsize:v:1 5000k
      -g:v:1 150
      -keyint_min:v:1 150
      -force_key_frames:v:1 expr:gte(t,n_forced*6)
      -colorspace:v:1 bt709
      -color_primaries:v:1 bt709
      -color_trc:v:1 bt709
      -color_range:v:1 tv
      -c:a:1 aac
      -ac:a:1 2
      -b:a:1 128k
      -sn
      -dn
      -map_metadata -1
      -map_chapters -1
      -max_muxing_queue_size 4096
      -f hls
      -hls_time 6
      -hls_playlist_type vod
      -hls_flags independent_segments
      -hls_segment_type mpegts
      -hls_segment_filename /tmp/tw/jobs/job-1/%v/seg_%05d.ts
      -master_pl_name index.m3u8
      -var_stream_map v:0,a:0,name:v0 v:1,a:1,name:v1 /tmp/tw/jobs/job-1/%v/stream.m3u8"
    `);
  });

  it('Intel QSV: qsv decode, scale_qsv, h264_qsv', () => {
    const opts = makePlanOptions({
      verified: ['libx264', 'h264_qsv'],
      hwaccels: ['qsv'],
      hwDevice: '/dev/dri/renderD129',
    });
    expect(pretty(argv(makeValidatedJob(ladderOf('h264_qsv').slice(0, 2)), makeSourceInfo(), opts)))
      .toMatchInlineSnapshot(`
      "-hide_banner
      -nostdin
      -y
      -loglevel error
      -progress pipe:1
      -nostats
      -qsv_device /dev/dri/renderD129
      -hwaccel qsv
      -hwaccel_output_format qsv
      -c:v h264_qsv
      -i /mnt/nas/movies/a.mkv
      -filter_complex [0:0]split=2[s0][s1];[s0]scale_qsv=w=1920:h=1080:format=nv12,setsar=1[v0];[s1]scale_qsv=w=1280:h=720:format=nv12,setsar=1[v1]
      -map [v0]
      -map 0:1
      -map [v1]
      -map 0:1
      -c:v:0 h264_qsv
      -preset:v:0 medium
      -forced_idr:v:0 1
      -profile:v:0 high
      -b:v:0 5000k
      -maxrate:v:0 6000k
      -bufsize:v:0 10000k
      -g:v:0 150
      -keyint_min:v:0 150
      -force_key_frames:v:0 expr:gte(t,n_forced*6)
      -c:a:0 aac
      -ac:a:0 2
      -b:a:0 128k
      -c:v:1 h264_qsv
      -preset:v:1 medium
      -forced_idr:v:1 1
      -profile:v:1 high
      -b:v:1 2500k
      -maxrate:v:1 3000k
      -bufsize:v:1 5000k
      -g:v:1 150
      -keyint_min:v:1 150
      -force_key_frames:v:1 expr:gte(t,n_forced*6)
      -c:a:1 aac
      -ac:a:1 2
      -b:a:1 128k
      -sn
      -dn
      -map_metadata -1
      -map_chapters -1
      -max_muxing_queue_size 4096
      -f hls
      -hls_time 6
      -hls_playlist_type vod
      -hls_flags independent_segments
      -hls_segment_type mpegts
      -hls_segment_filename /tmp/tw/jobs/job-1/%v/seg_%05d.ts
      -master_pl_name index.m3u8
      -var_stream_map v:0,a:0,name:v0 v:1,a:1,name:v1 /tmp/tw/jobs/job-1/%v/stream.m3u8"
    `);
  });

  it('VAAPI + HDR10: vaapi decode, tonemap_vaapi, scale_vaapi, h264_vaapi', () => {
    const opts = makePlanOptions({ verified: ['libx264', 'h264_vaapi'], hwaccels: ['vaapi'] });
    expect(pretty(argv(makeValidatedJob(ladderOf('h264_vaapi').slice(0, 2)), hdr10, opts))).toMatchInlineSnapshot(`
      "-hide_banner
      -nostdin
      -y
      -loglevel error
      -progress pipe:1
      -nostats
      -init_hw_device vaapi=va:/dev/dri/renderD128
      -filter_hw_device va
      -hwaccel vaapi
      -hwaccel_device va
      -hwaccel_output_format vaapi
      -i /mnt/nas/movies/a.mkv
      -filter_complex [0:0]tonemap_vaapi=format=nv12:t=bt709:m=bt709:p=bt709,split=2[s0][s1];[s0]scale_vaapi=w=1920:h=1080:format=nv12,setsar=1[v0];[s1]scale_vaapi=w=1280:h=720:format=nv12,setsar=1[v1]
      -map [v0]
      -map 0:1
      -map [v1]
      -map 0:1
      -c:v:0 h264_vaapi
      -rc_mode:v:0 VBR
      -profile:v:0 high
      -b:v:0 5000k
      -maxrate:v:0 6000k
      -bufsize:v:0 10000k
      -g:v:0 150
      -keyint_min:v:0 150
      -force_key_frames:v:0 expr:gte(t,n_forced*6)
      -colorspace:v:0 bt709
      -color_primaries:v:0 bt709
      -color_trc:v:0 bt709
      -color_range:v:0 tv
      -c:a:0 aac
      -ac:a:0 2
      -b:a:0 128k
      -c:v:1 h264_vaapi
      -rc_mode:v:1 VBR
      -profile:v:1 high
      -b:v:1 2500k
      -maxrate:v:1 3000k
      -bufsize:v:1 5000k
      -g:v:1 150
      -keyint_min:v:1 150
      -force_key_frames:v:1 expr:gte(t,n_forced*6)
      -colorspace:v:1 bt709
      -color_primaries:v:1 bt709
      -color_trc:v:1 bt709
      -color_range:v:1 tv
      -c:a:1 aac
      -ac:a:1 2
      -b:a:1 128k
      -sn
      -dn
      -map_metadata -1
      -map_chapters -1
      -max_muxing_queue_size 4096
      -f hls
      -hls_time 6
      -hls_playlist_type vod
      -hls_flags independent_segments
      -hls_segment_type mpegts
      -hls_segment_filename /tmp/tw/jobs/job-1/%v/seg_%05d.ts
      -master_pl_name index.m3u8
      -var_stream_map v:0,a:0,name:v0 v:1,a:1,name:v1 /tmp/tw/jobs/job-1/%v/stream.m3u8"
    `);
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

  it('Raspberry Pi: CPU decode and scale, h264_v4l2m2m', () => {
    const opts = makePlanOptions({
      verified: ['libx264', 'h264_v4l2m2m'],
      hwaccelMode: 'v4l2m2m',
      softwarePreset: 'veryfast',
    });
    expect(pretty(argv(makeValidatedJob(ladderOf('h264_v4l2m2m').slice(1)), makeSourceInfo(), opts)))
      .toMatchInlineSnapshot(`
        "-hide_banner
        -nostdin
        -y
        -loglevel error
        -progress pipe:1
        -nostats
        -i /mnt/nas/movies/a.mkv
        -filter_complex [0:0]split=2[s0][s1];[s0]scale=w=1280:h=720,setsar=1,format=yuv420p[v0];[s1]scale=w=854:h=480,setsar=1,format=yuv420p[v1]
        -map [v0]
        -map 0:1
        -map [v1]
        -map 0:1
        -c:v:0 h264_v4l2m2m
        -pix_fmt:v:0 yuv420p
        -num_capture_buffers:v:0 16
        -b:v:0 2500k
        -maxrate:v:0 3000k
        -bufsize:v:0 5000k
        -g:v:0 150
        -keyint_min:v:0 150
        -force_key_frames:v:0 expr:gte(t,n_forced*6)
        -c:a:0 aac
        -ac:a:0 2
        -b:a:0 128k
        -c:v:1 h264_v4l2m2m
        -pix_fmt:v:1 yuv420p
        -num_capture_buffers:v:1 16
        -b:v:1 1000k
        -maxrate:v:1 1200k
        -bufsize:v:1 2000k
        -g:v:1 150
        -keyint_min:v:1 150
        -force_key_frames:v:1 expr:gte(t,n_forced*6)
        -c:a:1 aac
        -ac:a:1 2
        -b:a:1 128k
        -sn
        -dn
        -map_metadata -1
        -map_chapters -1
        -max_muxing_queue_size 4096
        -f hls
        -hls_time 6
        -hls_playlist_type vod
        -hls_flags independent_segments
        -hls_segment_type mpegts
        -hls_segment_filename /tmp/tw/jobs/job-1/%v/seg_%05d.ts
        -master_pl_name index.m3u8
        -var_stream_map v:0,a:0,name:v0 v:1,a:1,name:v1 /tmp/tw/jobs/job-1/%v/stream.m3u8"
      `);
  });

  it('AMD AMF: CPU decode and scale, h264_amf', () => {
    const opts = makePlanOptions({ verified: ['libx264', 'h264_amf'] });
    const args = argv(makeValidatedJob(ladderOf('h264_amf').slice(2)), makeSourceInfo(), opts);
    expect(args.slice(args.indexOf('-c:v:0'), args.indexOf('-b:v:0'))).toEqual([
      '-c:v:0', 'h264_amf', '-quality:v:0', 'balanced', '-rc:v:0', 'vbr_peak',
    ]); // prettier-ignore
  });

  it('fallback mix: two nvenc sessions allowed, the smallest rung on libx264, CPU decode', () => {
    const opts = makePlanOptions({ verified: ['libx264', 'h264_nvenc'], hwaccels: ['cuda'], maxSessions: 2 });
    expect(pretty(argv(makeValidatedJob(ladderOf('h264_nvenc')), makeSourceInfo(), opts))).toMatchInlineSnapshot(`
      "-hide_banner
      -nostdin
      -y
      -loglevel error
      -progress pipe:1
      -nostats
      -i /mnt/nas/movies/a.mkv
      -filter_complex [0:0]split=3[s0][s1][s2];[s0]scale=w=1920:h=1080,setsar=1,format=yuv420p[v0];[s1]scale=w=1280:h=720,setsar=1,format=yuv420p[v1];[s2]scale=w=854:h=480,setsar=1,format=yuv420p[v2]
      -map [v0]
      -map 0:1
      -map [v1]
      -map 0:1
      -map [v2]
      -map 0:1
      -c:v:0 h264_nvenc
      -preset:v:0 p4
      -tune:v:0 hq
      -rc:v:0 vbr
      -no-scenecut:v:0 1
      -forced-idr:v:0 1
      -profile:v:0 high
      -b:v:0 5000k
      -maxrate:v:0 6000k
      -bufsize:v:0 10000k
      -g:v:0 150
      -keyint_min:v:0 150
      -force_key_frames:v:0 expr:gte(t,n_forced*6)
      -c:a:0 aac
      -ac:a:0 2
      -b:a:0 128k
      -c:v:1 h264_nvenc
      -preset:v:1 p4
      -tune:v:1 hq
      -rc:v:1 vbr
      -no-scenecut:v:1 1
      -forced-idr:v:1 1
      -profile:v:1 high
      -b:v:1 2500k
      -maxrate:v:1 3000k
      -bufsize:v:1 5000k
      -g:v:1 150
      -keyint_min:v:1 150
      -force_key_frames:v:1 expr:gte(t,n_forced*6)
      -c:a:1 aac
      -ac:a:1 2
      -b:a:1 128k
      -c:v:2 libx264
      -preset:v:2 fast
      -profile:v:2 high
      -sc_threshold:v:2 0
      -b:v:2 1000k
      -maxrate:v:2 1200k
      -bufsize:v:2 2000k
      -g:v:2 150
      -keyint_min:v:2 150
      -force_key_frames:v:2 expr:gte(t,n_forced*6)
      -c:a:2 aac
      -ac:a:2 2
      -b:a:2 128k
      -sn
      -dn
      -map_metadata -1
      -map_chapters -1
      -max_muxing_queue_size 4096
      -f hls
      -hls_time 6
      -hls_playlist_type vod
      -hls_flags independent_segments
      -hls_segment_type mpegts
      -hls_segment_filename /tmp/tw/jobs/job-1/%v/seg_%05d.ts
      -master_pl_name index.m3u8
      -var_stream_map v:0,a:0,name:v0 v:1,a:1,name:v1 v:2,a:2,name:v2 /tmp/tw/jobs/job-1/%v/stream.m3u8"
    `);
  });
});

describe('buildFfmpegArgs: safety', () => {
  it('never lets a job value be read as an option: paths absolute, values parsed', () => {
    const v = makeValidatedJob(
      [
        { res: '720p', dest: 'processed/-y/720p' },
        { res: '480p', dest: 'processed/-y/-480p' },
      ],
      { inputPath: `${NAS}/movies/-y .mkv` },
    );
    const args = argv(v, makeSourceInfo(), makePlanOptions());
    expect(args[args.indexOf('-i') + 1]).toBe(`${NAS}/movies/-y .mkv`);
    // Every path argument is absolute; the only job-derived strings elsewhere sit inside option values.
    const values = args.filter((a, i) => i > 0 && args[i - 1]!.startsWith('-') && !a.startsWith('-'));
    expect(values.filter((a) => a.includes('-y'))).toEqual([`${NAS}/movies/-y .mkv`]);
    // Folder names never reach ffmpeg: the var_stream_map names (and so the %v folders) are synthetic.
    expect(args[args.indexOf('-var_stream_map') + 1]).toBe('v:0,a:0,name:v0 v:1,a:1,name:v1');
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
