/**
 * Knows a source and proves it complete in one call: probeSourceInfo, then assertSourceComplete. The job pipeline
 * runs the two separately (the completeness check beside ffmpeg); tests that only need the SourceInfo use this.
 */
import { JobCancelledError } from '../../src/errors.js';
import { assertSourceComplete } from '../../src/transcode/ffprobe-completeness.js';
import { probeSourceInfo, type ProbeSourceDeps } from '../../src/transcode/ffprobe.js';
import type { SourceInfo } from '../../src/transcode/types.js';

export async function probeSource(inputPath: string, deps: ProbeSourceDeps): Promise<SourceInfo> {
  const probed = await probeSourceInfo(inputPath, deps);
  await assertSourceComplete(probed, deps);
  if (deps.signal?.aborted) throw new JobCancelledError('the job was cancelled while probing the source');
  return probed.info;
}
