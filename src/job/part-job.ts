/**
 * A part job (protocol extension split-stitch/1): the segments [start, end) of every rendition of a film, with
 * the timestamps and segment numbers they have in the whole film (transcode/args/range.ts), committed to the
 * parent's parts area on the NAS (storage/parts-area.ts) with a part.json that says exactly what was made. No
 * subtitles, no master, no verification of the whole: the stitch job does those once all parts are there.
 *
 * A part that fails commits nothing (the orchestrator re-queues it alone); a part committed again replaces its
 * earlier attempt (the commit's swap, on a folder marked ours).
 */
import path from 'node:path';
import type { GpuSelector } from '../capabilities/gpu-selector.js';
import type { Config } from '../config.js';
import { FfmpegError, JobValidationError, StorageError, errorMessage } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Job } from '../protocol/schemas.js';
import { commitOutputs } from '../storage/commit.js';
import {
  partFolderOf,
  PART_MANIFEST,
  partManifestJson,
  partsAreaOf,
  type PartManifest,
} from '../storage/parts-area.js';
import { openSegmentJournal, watchSegmentJournal } from '../storage/segment-journal.js';
import { fingerprintSource, settingsDigest } from '../storage/source-fingerprint.js';
import { assertStagingSpace, createStagingDir, estimateOutputBytes, removeStagingDir } from '../storage/staging.js';
import { writeFile } from 'node:fs/promises';
import { buildRangeFfmpegArgs } from '../transcode/args/range.js';
import { runFfmpeg } from '../transcode/ffmpeg.js';
import { startCompletenessCheck } from '../transcode/ffprobe-completeness.js';
import { hardwareFamiliesOf, planTranscode } from '../transcode/plan.js';
import { rangeAlignmentStep, rangeProgressSpan } from '../transcode/args/range.js';
import { withDeviceFailures, type JobContext, type JobProgress, type JobSuccess } from './contract.js';
import { alignDown } from '../media/segment-grid.js';
import { ladderShape, resolvePartRange, type PartSpec } from './part-spec.js';
import { buildPlanOptions, planOnChosenGpu } from './plan-choice.js';
import { prepareJob } from './prepare.js';
import { commitOptionsOf } from './publish.js';
import { journaledRenditions } from './resume.js';

export interface PartJobDeps {
  config: Config;
  runner: CommandRunner;
  gpuSelector: GpuSelector;
  now: () => number;
}

/** Share of the progress bar given to ffmpeg; the commit to the parts area takes the rest. */
const TRANSCODE_SHARE = 95;

export async function runPartJob(job: Job, part: PartSpec, ctx: JobContext, deps: PartJobDeps): Promise<JobSuccess> {
  const { config } = deps;
  const { signal, log, probe } = ctx;
  let reported = 0;
  const report = (p: JobProgress, share = TRANSCODE_SHARE): void => {
    reported = Math.max(reported, Math.min(100, (p.progress * share) / 100));
    ctx.onProgress({ progress: reported, currentFps: p.currentFps, etaSec: p.etaSec });
  };
  const prepared = await prepareJob(job, ctx, deps);
  const { validated, probed, stagingDir, sidecars } = prepared;
  const source = probed.info;
  const completeness = startCompletenessCheck(probed, prepared.probeDeps);
  try {
    const chosen = await planOnChosenGpu(
      deps.gpuSelector,
      (device) =>
        planTranscode(validated, source, { ...buildPlanOptions(config, probe, stagingDir, false, device), sidecars }),
      probe,
      log,
    );
    // Subtitles belong to the stitch, which reads them once for the whole film.
    const plan = { ...chosen.plan, subtitles: [] };
    const step = rangeAlignmentStep(plan);
    if (step === null)
      throw new JobValidationError(
        `hls_settings.segment_time ${plan.segmentTime} is not a whole number of 48 kHz audio samples: this job cannot be split into parts`,
      );
    const range = resolvePartRange(part, source.durationSec, plan.segmentTime);
    // The audio starts on its alignment step (range-timing.ts): at or before the part's start. Its segments before
    // the start are the previous part's; they are made (the encoder's pre-roll, in effect) and left out below.
    const audioStart = alignDown(range.start, step);
    const renditions = journaledRenditions(plan);
    await createStagingDir(config.temp_dir, job.job_id);
    const share = (range.end - range.start) / range.total;
    await assertStagingSpace(stagingDir, Math.ceil(estimateOutputBytes(plan) * share));
    const journal = await openSegmentJournal({
      file: path.join(stagingDir, '.segments.jsonl'),
      stagingDir,
      renditions,
      playlistName: plan.playlistName,
    });
    const started = deps.now();
    try {
      if (range.end > range.start) {
        // The last part runs to the film's end: its tail (a few ms of audio past the picture) is the film's too.
        const segRange = {
          start: range.start,
          ...(range.end < range.total ? { end: range.end } : {}),
          ...(audioStart < range.start ? { audioStart } : {}),
        };
        const args = buildRangeFfmpegArgs(plan, segRange);
        log.info(
          { part: part.index, of: part.count, segments: `${range.start}-${range.end - 1}`, total: range.total },
          'transcoding a part',
        );
        log.debug({ args }, 'ffmpeg arguments');
        const watcher = watchSegmentJournal(journal, {
          intervalMs: 1000,
          onError: (err) => log.warn({ err: errorMessage(err) }, 'cannot journal finished segments'),
        });
        try {
          await runFfmpeg(args, {
            ffmpegPath: config.ffmpeg_path,
            signal: AbortSignal.any([signal, completeness.signal]),
            durationSec: source.durationSec,
            progressSpan: rangeProgressSpan(plan, segRange),
            stallTimeoutMs: config.stall_timeout,
            priority: config.process_priority,
            onProgress: (pr) => report(pr),
            onSpawn: ctx.onProcess,
            log,
          });
        } catch (err) {
          await completeness.settle(true);
          if (err instanceof FfmpegError && err.deviceError) throw withDeviceFailures(err, hardwareFamiliesOf(plan));
          throw err;
        } finally {
          await watcher.stop().catch((err) => log.warn({ err: errorMessage(err) }, 'cannot journal finished segments'));
        }
      }
      await completeness.settle();
    } finally {
      await journal.close();
    }
    const transcodeMs = deps.now() - started;

    const manifest: PartManifest = {
      version: 1,
      parent_job_id: part.parent_job_id,
      index: part.index,
      count: part.count,
      start_segment: range.start,
      end_segment: range.end,
      total_segments: range.total,
      segment_time: plan.segmentTime,
      segment_type: plan.segmentType,
      ladder: settingsDigest(ladderShape(plan)),
      source: await fingerprintSource(validated.inputPath),
      encoders: Object.fromEntries(plan.renditions.map((r) => [r.variantDir, r.encoder])),
      renditions: Object.fromEntries(
        renditions.map((dir) => {
          const all = journal.segments(dir);
          // The fMP4 init is listed with the run's first segment, which may be one before the part's start.
          const map = all.find((s) => s.map)?.map;
          const segs = all.filter((s) => s.index >= range.start);
          return [
            dir,
            {
              ...(plan.segmentType === 'fmp4' && map ? { map } : {}),
              segments: segs.map((s) => ({ n: s.index, f: s.file, d: s.duration, b: s.bytes })),
            },
          ];
        }),
      ),
      worker_id: config.worker_id,
      written_at: new Date().toISOString(),
    };
    for (const [dir, r] of Object.entries(manifest.renditions)) {
      const want = range.end - range.start;
      if (r.segments.length < want || (r.segments.length > 0 && r.segments[0]!.n !== range.start))
        throw new StorageError(
          `ffmpeg made ${r.segments.length} segments of ${dir} from ${r.segments[0]?.n ?? '-'}, the part needs ${want} from ${range.start}`,
        );
    }
    await writeFile(path.join(stagingDir, PART_MANIFEST), partManifestJson(manifest));
    const files = [
      PART_MANIFEST,
      ...Object.entries(manifest.renditions).flatMap(([dir, r]) =>
        [...(r.map ? [r.map] : []), ...r.segments.map((s) => s.f)].map((f) => (dir === '.' ? f : `${dir}/${f}`)),
      ),
    ];
    const area = partsAreaOf(plan.masterDir, part.parent_job_id);
    const folder = partFolderOf(area, part.index);
    const commit = await commitOutputs(
      { jobId: job.job_id, folders: [{ destPath: folder, sourceDir: stagingDir, files }], master: null },
      commitOptionsOf({ config, log, signal, onStateDirProblem: ctx.onStateDirProblem }),
    );
    report({ progress: 100, currentFps: 0, etaSec: 0 }, 100);
    log.info({ folder, bytes: commit.bytes }, 'part committed to the parts area');
    return {
      manifestUrl: `/${folder}/${PART_MANIFEST}`,
      metrics: {
        transcode_time_ms: Math.round(transcodeMs),
        commit_time_ms: Math.round(commit.durationMs),
        output_bytes: commit.bytes,
        encoders: Object.fromEntries(plan.renditions.map((r) => [r.destPath, r.encoder])),
        part: {
          index: part.index,
          count: part.count,
          start_segment: range.start,
          end_segment: range.end,
          segments: range.end - range.start,
        },
      },
    };
  } finally {
    await completeness.stop();
    const err = await removeStagingDir(stagingDir);
    if (err) log.warn({ err, stagingDir }, 'could not remove the staging folder');
  }
}
