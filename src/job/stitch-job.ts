/**
 * A stitch job (protocol extension split-stitch/1): the parts of a split film, already on the NAS, become one
 * ladder without re-encoding anything.
 *
 *   1. read every part's part.json and check they join (stitch-checks.ts): nothing is touched before that;
 *   2. move the segments (same-filesystem renames, idempotent: a retried stitch finds them already moved) into a
 *      staging folder inside the parts area, so the commit can hard-link them into place;
 *   3. write the media playlists (part 0's fMP4 init for every segment), read the subtitle tracks of the whole
 *      film, cut them, verify the ladder (bandwidths measured over the whole film), commit like any job;
 *   4. remove the parts area (only folders marked ours).
 * A failure before the commit leaves the parts where a retried stitch finds them.
 *
 * The staging folder is on the NAS, which people and other programs write to as well, so nothing the stitch writes
 * there goes through plain fs: the segments are moved with checked renames, and every file the worker writes (the
 * joined playlists, the cut WebVTT renditions, the I-frame playlists, the master) is one NasFs operation of its own
 * (nasStagedWriter: the path checked from the NAS root down right before it, a link at the name removed, never
 * followed, the file created with O_EXCL). ffmpeg, whose writes cannot be checked, writes the whole WebVTT tracks
 * into the job's local staging folder in temp_dir instead (removed at the end); only their cuts reach the NAS.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { StorageError, errorMessage } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Job } from '../protocol/schemas.js';
import { openNasFs, type NasFs } from '../storage/nas-fs.js';
import { isMarkedOurs, MARKER_NAME, markerJson } from '../storage/ownership.js';
import { PART_MANIFEST, partFolderOf, partsAreaOf, readPartManifest } from '../storage/parts-area.js';
import { writeJoinedPlaylists } from '../storage/playlist-join.js';
import { fingerprintSource, settingsDigest } from '../storage/source-fingerprint.js';
import { nasStagedWriter } from '../storage/staged-writer.js';
import { createStagingDir, removeStagingDir } from '../storage/staging.js';
import { planTranscode, SUBTITLE_WORK_DIR } from '../transcode/plan.js';
import { extractWholeSubtitles } from '../transcode/subtitle-extract.js';
import { throwIfAborted } from '../util/abortable.js';
import type { JobContext, JobProgress, JobSuccess } from './contract.js';
import { ladderShape, type StitchSpec } from './part-spec.js';
import { buildPlanOptions } from './plan-choice.js';
import { PartsMissingError } from './parts-missing-error.js';
import { prepareJob } from './prepare.js';
import { publishLadder, tracksMetrics, type Published } from './publish.js';
import { journaledRenditions } from './resume.js';
import { checkParts, type StitchLayout } from './stitch-checks.js';

export interface StitchJobDeps {
  config: Config;
  runner: CommandRunner;
  now: () => number;
}

export async function runStitchJob(
  job: Job,
  stitch: StitchSpec,
  ctx: JobContext,
  deps: StitchJobDeps,
): Promise<JobSuccess> {
  const { config, runner } = deps;
  const { signal, log, probe } = ctx;
  let reported = 0;
  const report = (p: JobProgress): void => {
    reported = Math.max(reported, Math.min(100, p.progress));
    ctx.onProgress({ progress: reported, currentFps: 0, etaSec: 0 });
  };
  const prepared = await prepareJob(job, ctx, deps);
  const { validated, sidecars } = prepared;
  const source = prepared.probed.info;
  const nas = await openNasFs(config.nas_mount_path);
  // The stitch encodes nothing: its plan is the ladder's shape (software, so any worker can stitch any ladder).
  const draft = planTranscode(validated, source, { ...buildPlanOptions(config, probe, '/', true), sidecars });
  const area = partsAreaOf(draft.masterDir, stitch.parent_job_id);
  const areaAbs = abs(nas, area);
  const stagingDir = path.join(areaAbs, 'stitch');
  // The whole WebVTT tracks stay local (temp_dir): ffmpeg writes them, and nothing on the NAS needs them.
  const subtitleWorkDir = path.join(prepared.stagingDir, SUBTITLE_WORK_DIR);
  const plan = planTranscode(validated, source, {
    ...buildPlanOptions(config, probe, stagingDir, true),
    sidecars,
    subtitleWorkDir,
  });
  const renditions = journaledRenditions(plan);

  // Parts not committed yet: its own error (run-job --stitch exits 3 on it, so a scheduler retries it later).
  const missing: number[] = [];
  for (let i = 0; i < stitch.count; i++)
    if (!(await nas.lstatOrNull(path.join(abs(nas, partFolderOf(area, i)), PART_MANIFEST)))) missing.push(i);
  if (missing.length > 0) throw new PartsMissingError(stitch.parent_job_id, stitch.count, missing);
  const manifests = [];
  for (let i = 0; i < stitch.count; i++)
    manifests.push(await readPartManifest(nas, abs(nas, partFolderOf(area, i)), i));
  const layout = checkParts(manifests, {
    parentJobId: stitch.parent_job_id,
    count: stitch.count,
    ladder: settingsDigest(ladderShape(plan)),
    source: await fingerprintSource(validated.inputPath),
    renditions,
    segmentType: plan.segmentType,
  });
  throwIfAborted(signal);
  report({ progress: 5, currentFps: 0, etaSec: 0 });

  await gatherSegments(nas, area, stagingDir, layout, job.job_id, config.worker_id, (done) =>
    report({ progress: 5 + 25 * done, currentFps: 0, etaSec: 0 }),
  );
  // Every file written into the staging on the NAS from here on: one checked NasFs operation each.
  const writer = nasStagedWriter(nas);
  await writeJoinedPlaylists({
    writer,
    stagingDir,
    playlistName: plan.playlistName,
    segmentType: plan.segmentType,
    renditions: renditions.map((dir, i) => ({ dir, independentSegments: i < plan.renditions.length })),
    segmentsOf: (dir) =>
      (layout.segments.get(dir) ?? []).map((s, k) => ({
        rendition: dir,
        index: s.index,
        file: s.file,
        duration: s.duration,
        bytes: s.bytes,
        ...(k === 0 && layout.maps.has(dir) ? { map: layout.maps.get(dir)! } : {}),
      })),
  });
  report({ progress: 35, currentFps: 0, etaSec: 0 });
  let published: Published;
  try {
    if (plan.subtitles.length > 0) {
      // The sidecars' conversions land there too (publishLadder), so the folder exists before either runs.
      await createStagingDir(config.temp_dir, job.job_id);
      await mkdir(subtitleWorkDir);
      await extractWholeSubtitles(plan, { runner, ffmpegPath: config.ffmpeg_path, signal, log });
    }
    report({ progress: 50, currentFps: 0, etaSec: 0 });
    published = await publishLadder(plan, {
      config,
      runner,
      log,
      signal,
      onStateDirProblem: ctx.onStateDirProblem,
      report,
      writer,
    });
  } finally {
    const err = await removeStagingDir(prepared.stagingDir);
    if (err) log.warn({ err, stagingDir: prepared.stagingDir }, 'could not remove the local staging folder');
  }
  await removePartsArea(nas, area, stitch.count).catch((err) =>
    log.warn({ err: errorMessage(err), area }, 'the ladder is published, but its parts area could not be removed'),
  );
  const byDir = new Map(plan.renditions.map((r) => [r.variantDir, r.destPath]));
  return {
    manifestUrl: published.plan.manifestUrl,
    metrics: {
      transcode_time_ms: 0,
      commit_time_ms: Math.round(published.commit.durationMs),
      output_bytes: published.commit.bytes,
      encoders: Object.fromEntries(
        Object.entries(layout.encoders).map(([dir, encoder]) => [byDir.get(dir) ?? dir, encoder]),
      ),
      ...tracksMetrics(published.plan, published.subtitleWarnings),
      stitch: { parts: stitch.count, segments: layout.totalSegments },
    },
  };
}

function abs(nas: NasFs, rel: string): string {
  return path.join(nas.root, ...rel.split('/').filter(Boolean));
}

/**
 * Renames every segment (and part 0's fMP4 inits) into the stitch's staging folder. A segment already there and
 * gone from its part was moved by an earlier attempt of this stitch: skipped.
 */
async function gatherSegments(
  nas: NasFs,
  area: string,
  stagingDir: string,
  layout: StitchLayout,
  jobId: string,
  workerId: string,
  onProgress: (fraction: number) => void,
): Promise<void> {
  await nas.mkdirs(stagingDir);
  // Marked ours, so that removing the parts area later never needs to trust an unmarked folder.
  if (!(await nas.lstatOrNull(path.join(stagingDir, MARKER_NAME))))
    await nas.writeNewFile(
      path.join(stagingDir, MARKER_NAME),
      markerJson({
        kind: 'output',
        job_id: jobId,
        commit_id: randomUUID(),
        worker_id: workerId,
        written_at: new Date().toISOString(),
      }),
    );
  const moves: Array<{ from: string; to: string }> = [];
  for (const [dir, segments] of layout.segments) {
    const target = path.join(stagingDir, dir);
    await nas.mkdirs(target);
    const map = layout.maps.get(dir);
    if (map) moves.push({ from: path.join(abs(nas, partFolderOf(area, 0)), dir, map), to: path.join(target, map) });
    for (const s of segments)
      moves.push({ from: path.join(abs(nas, partFolderOf(area, s.part)), dir, s.file), to: path.join(target, s.file) });
  }
  let done = 0;
  for (const { from, to } of moves) {
    const there = await nas.lstatOrNull(from);
    if (there) await nas.rename(from, to);
    else if (!(await nas.lstatOrNull(to)))
      throw new StorageError(`${nas.rel(from)} is missing: was the part changed after it finished?`);
    if (++done % 200 === 0) onProgress(done / moves.length);
  }
  onProgress(1);
}

/** Removes every part folder and the stitch staging (each marked ours), then the area when empty. */
async function removePartsArea(nas: NasFs, area: string, count: number): Promise<void> {
  const ours = (dir: string) => isMarkedOurs(nas, dir);
  for (let i = 0; i < count; i++) await nas.removeTree(abs(nas, partFolderOf(area, i)), ours);
  await nas.removeTree(path.join(abs(nas, area), 'stitch'), ours);
  await nas.removeDirIfEmpty(abs(nas, area));
}
