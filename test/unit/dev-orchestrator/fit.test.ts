import { describe, expect, it } from 'vitest';
import { codecFits, explainMisfit, softwareEquivalent } from '../../../src/dev-orchestrator/fit.js';
import { parseResolution, resolutionHeight } from '../../../src/media/resolutions.js';
import type { Job } from '../../../src/protocol/schemas.js';
import { caps, jobBody } from './fixtures.js';

describe('job fit', () => {
  it('reads resolutions as a height (shorter side for WxH), undefined when unreadable', () => {
    expect(resolutionHeight('720p')).toBe(720);
    expect(resolutionHeight('4K')).toBe(2160);
    expect(resolutionHeight('1920x1080')).toBe(1080);
    expect(resolutionHeight('1080x1920')).toBe(1080);
    expect(resolutionHeight('best')).toBeUndefined();
    // PAL and Apple's authoring ladder: any even height.
    expect(resolutionHeight('576p')).toBe(576);
    expect(resolutionHeight('432p')).toBe(432);
    expect(resolutionHeight('8K')).toBe(4320);
  });

  it('accepts exactly the resolution names the worker accepts', () => {
    for (const name of [
      '240p',
      '360p',
      '480p',
      '720p',
      '1080p',
      '1440p',
      '2160p',
      '4k',
      '4K',
      '1280x720',
      '576p',
      '540p',
      '8k',
    ]) {
      expect(parseResolution(name), name).not.toBeNull();
      expect(resolutionHeight(name), name).toBeDefined();
    }
    for (const name of ['uhd', 'hd', 'fhd', '2k', '720i', '1920:1080', '575p', '8p', '4322p', '08640p', '-720p']) {
      expect(parseResolution(name), name).toBeNull();
      expect(resolutionHeight(name), name).toBeUndefined();
    }
  });

  it('maps hardware encoders to their software fallback', () => {
    expect(softwareEquivalent('h264_qsv')).toBe('libx264');
    expect(softwareEquivalent('hevc_vaapi')).toBe('libx265');
    expect(softwareEquivalent('libx264')).toBeUndefined();
    // A name the worker refuses has no fallback: such a job fits no worker.
    expect(softwareEquivalent('h264_unknown')).toBeUndefined();
    expect(codecFits('h264_nvenc', caps({ supported_codecs: ['libx264'] }))).toBe(true);
    expect(codecFits('libx265', caps({ supported_codecs: ['hevc_nvenc'] }))).toBe(false);
  });

  it('explains a misfit in words', () => {
    const job = { ...jobBody(), job_id: 'j' } as Job;
    expect(explainMisfit(job, caps())).toBeNull();
    const hevc = { ...job, outputs: [{ ...job.outputs[0]!, codec: 'hevc_nvenc' }] };
    expect(explainMisfit(hevc, caps())).toBe('codec hevc_nvenc (or libx265) is not supported');
    const big = { ...job, outputs: [job.outputs[0]!, { ...job.outputs[0]!, resolution: '1440p' }] };
    expect(explainMisfit(big, caps({ max_resolution: '1080p' }))).toBe('resolution 1440p exceeds max_resolution 1080p');
    expect(explainMisfit(big, caps({ max_resolution: 'unknown' }))).toBeNull();
  });
});
