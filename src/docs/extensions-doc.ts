/**
 * The sections of docs/protocol.md about what goes beyond the four calls: the optional extension split-stitch/1
 * (part and stitch jobs) and resumable jobs. Prose for people writing an orchestrator; the field tables come from
 * the schemas (job-doc.ts and the OpenAPI document).
 */
import { SPLIT_STITCH_EXTENSION } from '../protocol/schemas.js';

export const SPLIT_STITCH_DOC = `## Extension: split and stitch (${SPLIT_STITCH_EXTENSION})

An optional, backward-compatible extension: one film is encoded by several workers at once, each a time range of it
(a **part job**), and one of them then joins the parts into the ladder (a **stitch job**). An orchestrator that
does not know it never sends such jobs and nothing changes; a worker that does not know it is never sent one.

**Capabilities.** A worker that implements it registers with \`capabilities.extensions: ["${SPLIT_STITCH_EXTENSION}"]\`.
**Send part and stitch jobs only to workers that list it** (and that fit the job as any job must). A worker without
the extension would ignore \`part\`/\`stitch\` and encode the whole film into the final folders.

**Segments.** Every rendition of a job shares \`segment_time\` T, so segment K (0-based) starts at K x T in the whole
film, in every rendition. Parts are ranges of segment indices [start_segment, end_segment).

**Boundaries.** Any segment boundary will do: part 0 starts at 0, the last part reaches the end of the film, and
each part's start is the previous part's end. (Audio is coded in frames, AAC 1024 samples at 48 kHz and
AC-3/E-AC-3 1536, so the worker starts a part's audio at the last boundary before it where K x T x 48000 is a whole
number of frames and leaves the audio segments before the part's start out: no orchestrator needs to know.) The one
exception: when T x 48000 is not a whole number of samples (T = 4.00001) no boundary but 0 is exact, and a worker
refuses the part: do not split such a job.

**A part job** is the parent job (every field: \`input\`, \`outputs\`, \`hls_settings\`, \`audio_config\`,
\`subtitles\`, \`output_base\`) with its own \`job_id\` (e.g. \`<parent>.part-<index>\`) and
\`part: {parent_job_id, index, count, start_segment, end_segment}\`. The worker encodes segments
[start_segment, end_segment) of every rendition, starting on an IDR, with the segment numbers and timestamps they
have in the whole film, and commits them to the **parts area**. \`end_segment\` null or absent means "to the end of
the film"; with both \`start_segment\` and \`end_segment\` absent the worker cuts the film into \`count\` parts as
equal as can be (the larger first) itself and encodes part \`index\` (the same cut for every index, so parts always
meet). It
finalizes COMPLETED with \`manifest_url\` = "/" + the path of the part's \`part.json\` relative to the NAS root and
\`metrics.part: {index, count, start_segment, end_segment, segments}\` (\`end_segment\` is the real end it made), or
FAILED like any job. Progress reports are over the part's own range (0 to 100).

**The parts area** is derived by the worker, never sent: \`<master folder>/.tw-parts-<first 16 hex of
sha256(parent_job_id)>/part-<index>/\` on the NAS, a dot folder players do not list. It holds each part's rendition
folders and its \`part.json\` (range, segment durations and sizes, a digest of the settings that shape the encode and
a fingerprint of the source), so the stitch can check the parts belong together.

**A stitch job** is the parent job with its own \`job_id\` (e.g. \`<parent>.stitch\`) and
\`stitch: {parent_job_id, count}\`. The worker checks that the \`count\` parts are all there, contiguous, made with
the same settings from the same source, and complete in every rendition; moves their segments into the final
folders (same-filesystem moves, no re-encode); writes the media playlists, subtitles, I-frame playlists and the
master (bandwidths measured over the whole film); verifies and publishes like any job; then removes the parts area.
It finalizes COMPLETED with the master's \`manifest_url\` and \`metrics.stitch: {parts, segments}\`. A FAILED stitch
leaves the parts in place: sending the stitch job again reuses them.

**Driving it, step by step** (what the dev orchestrator's \`--split-min-duration\` does):

1. Take a queued job whose source is long (you know or probe its duration) when at least two workers with the
   extension that fit it are idle.
2. Cut it: n parts (about two per idle capable worker, so a slow machine does not hold the finish), as equal as can
   be and the larger first (workers finishing early then pick up the shorter ones), from segment 0 to the film's
   last segment (\`ceil(duration / T)\`). Send explicit \`start_segment\`/\`end_segment\`.
3. Hand the part jobs out, one per sync answer, to capable idle workers only. Show the parent's progress as the parts'
   progress weighted by their segment counts.
4. A part that finalizes FAILED (or is lost) is queued again alone; the other parts are not redone. Give up after a
   few attempts and fail the parent with the part's \`error_msg\`.
5. When every part is COMPLETED, send the stitch job to one capable worker.
6. The stitch's COMPLETED \`manifest_url\` is the parent's result. Cancelling the parent cancels its running parts
   (\`cancel_current_job\`, 410 on their PATCH) as for any job.
`;

export const RESUME_DOC = `## Resumable jobs

A worker keeps the finished segments of a job that was interrupted (its crash, a power cut, a SIGTERM, an ffmpeg or
device error) for a while (\`resume_keep\`, 24 h by default). It still finalizes FAILED, so an orchestrator that does
nothing special re-queues or reports the job as before. But when the finalize's \`metrics.resume.resumable\` is
true, **re-queuing the same job to the same \`worker_id\` is worth it**: the worker continues from its last finished
segment (\`metrics.resume.segments_done\` of \`segments_total\`) instead of starting over, as long as the source and
the job are unchanged (otherwise it starts from zero and says why in \`metrics.resume.restart_reason\`). The next
finalize's \`metrics.resume.resumed_from_segment\` says where it continued. A cancel (PATCH 404/409/410,
\`cancel_current_job\`) removes the kept segments: the orchestrator said the job is gone. A failure that would happen
again (a bad source, a refused destination) keeps nothing and is not resumable.
`;
