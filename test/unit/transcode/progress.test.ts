import { describe, expect, it } from 'vitest';
import {
  ProgressStreamParser,
  ProgressTracker,
  parseProgressBlock,
  progressDurationOf,
} from '../../../src/transcode/progress.js';
import { StderrTail, looksLikeDeviceError } from '../../../src/transcode/stderr-tail.js';

const block = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `${k}=${v}\n`)
    .join('');

describe('parseProgressBlock', () => {
  it('reads out_time_us, fps, speed and the end marker', () => {
    const b = parseProgressBlock(
      new Map([
        ['frame', '50'],
        ['fps', '24.5'],
        ['out_time_us', '2000000'],
        ['speed', ' 1.5x'],
        ['total_size', '4096'],
        ['progress', 'end'],
      ]),
    );
    expect(b).toEqual({ outTimeSec: 2, frame: 50, fps: 24.5, speed: 1.5, totalSize: 4096, ended: true });
  });

  it('treats N/A as unknown and falls back to out_time_ms (microseconds) and then out_time', () => {
    expect(
      parseProgressBlock(
        new Map([
          ['out_time_us', 'N/A'],
          ['out_time_ms', '1500000'],
          ['speed', 'N/A'],
        ]),
      ),
    ).toMatchObject({
      outTimeSec: 1.5,
      speed: undefined,
      ended: false,
    });
    expect(parseProgressBlock(new Map([['out_time', '00:01:02.500000']])).outTimeSec).toBe(62.5);
    // ffmpeg prints a negative time before the first packet.
    expect(
      parseProgressBlock(
        new Map([
          ['out_time_us', '-577014'],
          ['out_time', '-00:00:00.577014'],
        ]),
      ).outTimeSec,
    ).toBeUndefined();
  });
});

describe('ProgressStreamParser', () => {
  it('assembles blocks from chunks cut anywhere, CRLF included', () => {
    const text =
      block({ frame: '1', out_time_us: '40000', progress: 'continue' }).replace(/\n/g, '\r\n') +
      block({ frame: '25', out_time_us: '1000000', progress: 'end' });
    const parser = new ProgressStreamParser();
    const blocks = [];
    for (let i = 0; i < text.length; i += 7) blocks.push(...parser.push(text.slice(i, i + 7)));
    expect(blocks.map((b) => [b.frame, b.outTimeSec, b.ended])).toEqual([
      [1, 0.04, false],
      [25, 1, true],
    ]);
  });

  it('does not carry fields of one block into the next', () => {
    const parser = new ProgressStreamParser();
    const [a, b] = parser.push(block({ fps: '30', progress: 'continue' }) + block({ progress: 'continue' }));
    expect(a!.fps).toBe(30);
    expect(b!.fps).toBeUndefined();
  });
});

describe('ProgressTracker', () => {
  it('turns out_time into a non-decreasing percentage, 100 only at the end, with an ETA from speed', () => {
    const t = new ProgressTracker(10, () => 0, 0);
    expect(t.update({ outTimeSec: 5, fps: 50, speed: 2.5, ended: false })).toEqual({
      progress: 50,
      currentFps: 50,
      etaSec: 2,
    });
    // A block with an earlier time (another output stream lagging) never moves progress back.
    expect(t.update({ outTimeSec: 4, speed: 2.5, ended: false }).progress).toBe(50);
    // Past the duration (audio a bit longer than the container says): capped below 100 until the end.
    expect(t.update({ outTimeSec: 11, speed: 2, ended: false }).progress).toBe(99.9);
    expect(t.update({ outTimeSec: 11, ended: true })).toMatchObject({ progress: 100, etaSec: 0 });
  });

  it('estimates speed from wall time when ffmpeg says N/A, and keeps the last fps', () => {
    let now = 0;
    const t = new ProgressTracker(20, () => now, 0);
    t.update({ outTimeSec: 1, fps: 25, ended: false });
    now = 2000; // 4 s of media in 2 s of wall time: 2x, 16 s left -> 8 s
    expect(t.update({ outTimeSec: 4, ended: false })).toEqual({ progress: 20, currentFps: 25, etaSec: 8 });
  });

  it('stays at 0 with an unknown duration until the end', () => {
    const t = new ProgressTracker(0, () => 0, 0);
    expect(t.update({ outTimeSec: 3, ended: false }).progress).toBe(0);
    expect(t.update({ ended: true }).progress).toBe(100);
  });
});

describe('StderrTail', () => {
  it('keeps the last meaningful lines, skips noise, collapses repeats and bounds the text', () => {
    const tail = new StderrTail(3);
    tail.push('ffmpeg version 5.1\n  built with gcc\nInput #0, mov\n  Stream #0:0: Video\n');
    tail.push("[hls @ 0x1] Opening 'a/seg0.ts' for writing\nframe=  10 fps=0.0 q=0\n");
    tail.push('first\nsecond\nsecond\nthird\nfourth');
    tail.end();
    expect(tail.text()).toBe('second\nthird\nfourth');
    expect(tail.text(11)).toBe('fourth');
    expect(tail.deviceError).toBe(false);
  });

  it('flags device and driver failures', () => {
    for (const line of [
      '[h264_nvenc @ 0x5] Cannot load libcuda.so.1',
      '[h264_nvenc @ 0x5] No NVENC capable devices found',
      '[h264_nvenc @ 0x5] OpenEncodeSessionEx failed: out of memory (10): (no details)',
      '[AVHWDeviceContext @ 0x5] Failed to initialise VAAPI connection: -1 (unknown libva error).',
      'Device creation failed: -542398533.',
      '[h264_nvenc @ 0x5] Driver does not support the required nvenc API version. incompatible client key (21)',
    ]) {
      expect(looksLikeDeviceError(line), line).toBe(true);
    }
    expect(looksLikeDeviceError('Invalid data found when processing input')).toBe(false);
    const tail = new StderrTail(1);
    tail.push('Cannot load libcuda.so.1\nlater line\n');
    expect(tail.deviceError).toBe(true);
  });
});

describe('progressDurationOf (range runs)', () => {
  it("is the span's length for a range run (its out_time counts from the run's zero), else the film's", () => {
    expect(progressDurationOf(120, { startSec: 40, endSec: 80 })).toBe(40);
    expect(progressDurationOf(120)).toBe(120);
    const t = new ProgressTracker(progressDurationOf(120, { startSec: 40, endSec: 80 }), () => 0, 0);
    expect(t.update({ outTimeSec: 20, ended: false }).progress).toBe(50);
  });
});
