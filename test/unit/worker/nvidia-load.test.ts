import { describe, expect, it } from 'vitest';
import { createNvidiaOwnerCheck, gpuOverReason, parsePmon } from '../../../src/worker/nvidia-load.js';
import type { CommandRunner } from '../../../src/exec/runner.js';

// `nvidia-smi pmon -c 1 -s u` as driver 535 prints it (jpg and ofa columns), and as 470 does (no GPU process).
const PMON_535 = `# gpu         pid   type     sm    mem    enc    dec    jpg    ofa    command 
# Idx           #    C/G      %      %      %      %      %      %    name 
    0       1842     G      3      1      -      -      -      -    Xorg           
    0      23411   C+G     61     22      -      -      -      -    witcher3       
    0      30012     C      5      2     18      0      -      -    ffmpeg         
`;
const PMON_470_IDLE = `# gpu        pid  type    sm   mem   enc   dec   command
# Idx          #   C/G     %     %     %     %   name
    0          -     -     -     -     -     -   -            
`;

describe('NVIDIA owner load', () => {
  it('parses pmon by its header, "-" as 0, idle GPUs as no row', () => {
    expect(parsePmon(PMON_535)).toEqual([
      { gpu: 0, pid: 1842, sm: 3, enc: 0, command: 'Xorg' },
      { gpu: 0, pid: 23411, sm: 61, enc: 0, command: 'witcher3' },
      { gpu: 0, pid: 30012, sm: 5, enc: 18, command: 'ffmpeg' },
    ]);
    expect(parsePmon(PMON_470_IDLE)).toEqual([]);
    expect(parsePmon('No devices were found')).toEqual([]);
  });

  it('counts other programs only: their GPU use over the threshold, or any encoder session that is not ours', () => {
    const rows = parsePmon(PMON_535);
    const all = () => true;
    // Our ffmpeg (30012) uses the encoder: not a reason; the game's 61% + Xorg's 3% are over 60.
    expect(gpuOverReason(rows, (p) => p === 30012, all, 60)).toBe(
      'other programs use 64% of NVIDIA GPU 0 (busy_cpu_percent 60)',
    );
    expect(gpuOverReason(rows, (p) => p === 30012, all, 80)).toBeUndefined();
    // Another program's encoder session pauses whatever the threshold.
    expect(gpuOverReason(rows, () => false, all, 100)).toBe('another program uses the NVIDIA encoder (ffmpeg 30012)');
    // A pid that does not exist here (another pid namespace) is not counted.
    expect(
      gpuOverReason(
        rows,
        () => false,
        (p) => p === 1842,
        1,
      ),
    ).toBe('other programs use 3% of NVIDIA GPU 0 (busy_cpu_percent 1)');
  });

  it('runs nvidia-smi once every few ticks and keeps the verdict in between', async () => {
    const argv: string[][] = [];
    const runner: CommandRunner = async (cmd, args) => {
      argv.push([cmd, ...args]);
      return { exitCode: 0, stdout: PMON_535, stderr: '', timedOut: false, durationMs: 1 };
    };
    const check = createNvidiaOwnerCheck({ runner, threshold: 50, every: 3, exists: () => true });
    const verdicts = [];
    for (let i = 0; i < 4; i++) verdicts.push(await check(() => [30012]));
    expect(argv).toEqual([
      ['nvidia-smi', 'pmon', '-c', '1', '-s', 'u'],
      ['nvidia-smi', 'pmon', '-c', '1', '-s', 'u'],
    ]);
    expect(verdicts.every((v) => v === 'other programs use 64% of NVIDIA GPU 0 (busy_cpu_percent 50)')).toBe(true);
  });
});
