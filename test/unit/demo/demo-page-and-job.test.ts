/**
 * The demo's job and its player page, without running them: the job is a valid protocol Job that asks for the
 * issue 11 fields out loud, and the page carries the audio and subtitle menus wired to hls.js (the browser test,
 * test/browser/demo-player.test.ts, plays it).
 */
import { describe, expect, it } from 'vitest';
import { SPLIT_DEMO_MIN_SEC, demoJob, demoPlayerPage, describeChildren } from '../../../src/demo.js';
import { parseAssignedJob } from '../../../src/job/parse-job.js';

describe('the demo job', () => {
  it('is a Job the worker parses, asking for stereo-only audio and the default subtitles explicitly', () => {
    const job = demoJob();
    expect(parseAssignedJob({ ...job, job_id: 'demo-1' })).toMatchObject({ ok: true });
    expect(job.audio_config).toEqual({ surround: false });
    expect(job.subtitles).toEqual({});
    expect(job.input.source_url).toBe('movies/sample.mkv');
  });
});

describe('the demo player page', () => {
  const page = demoPlayerPage({
    manifestUrl: '/processed/sample/index.m3u8',
    href: '/nas/processed/sample/index.m3u8',
    hlsSrc: '/hls.min.js',
  });

  it('has an audio menu and a subtitle menu with "Off"', () => {
    expect(page).toContain('<select id="audio-tracks" disabled></select>');
    expect(page).toMatch(/<select id="subtitle-tracks" disabled><option value="-1">Off<\/option><\/select>/);
  });

  it('fills them from hls.js and switches hls.audioTrack / hls.subtitleTrack; subtitles render as text tracks', () => {
    for (const wiring of [
      'Hls.Events.AUDIO_TRACKS_UPDATED',
      'Hls.Events.SUBTITLE_TRACKS_UPDATED',
      'hls.audioTrack = Number(audioMenu.value)',
      'hls.subtitleTrack = Number(subtitleMenu.value)',
      'renderTextTracksNatively: true',
    ])
      expect(page).toContain(wiring);
  });

  it('escapes a hostile master path in the link and in the script', () => {
    const hostile = demoPlayerPage({
      manifestUrl: '/a/</script><b>.m3u8',
      href: '/nas/a/%3C%2Fscript%3E.m3u8',
      hlsSrc: '/hls.min.js',
    });
    expect(hostile).not.toContain('</script><b>');
    expect(hostile).toContain('&#60;/script&#62;&#60;b&#62;.m3u8');
  });
});

describe('the demo with --workers N', () => {
  it('shows the parts of a split job with their workers, and nothing for a plain job', () => {
    expect(describeChildren({ status: 'PROCESSING', progress: 12 })).toBe('');
    const line = describeChildren({
      parts: [
        { index: 0, status: 'COMPLETED', progress: 100, worker_id: 'demo-1', attempts: 1 },
        { index: 1, status: 'PROCESSING', progress: 41.6, worker_id: 'demo-2', attempts: 2 },
        { index: 2, status: 'QUEUED', progress: 0, attempts: 0 },
      ],
      stitch: { status: 'QUEUED', progress: 0, attempts: 0 },
    });
    expect(line).toBe('  parts: 0 demo-1 COMPLETED, 1 demo-2 42% (try 2), 2 - QUEUED; stitch - QUEUED');
  });

  it('splits only a sample longer than the threshold: the one-worker sample (8 s) is not', () => {
    expect(SPLIT_DEMO_MIN_SEC).toBeGreaterThan(8);
    expect(SPLIT_DEMO_MIN_SEC).toBeLessThan(16 * 2);
  });
});
