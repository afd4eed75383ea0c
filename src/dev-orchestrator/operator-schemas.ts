/**
 * Schemas of the dev orchestrator's operator API (enqueue, inspect, cancel). They are not part of the worker
 * protocol: a real orchestrator has its own. They live here so the OpenAPI document can describe them under their
 * own tag and the server can validate with them.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Capabilities, FinalizeRequest, HardwareStats, Job, WorkerStatus } from '../protocol/schemas.js';

export const JobState = Type.Union(
  [
    Type.Literal('QUEUED'),
    Type.Literal('ASSIGNED'),
    Type.Literal('PROCESSING'),
    Type.Literal('COMPLETED'),
    Type.Literal('FAILED'),
    Type.Literal('CANCELLED'),
  ],
  {
    description:
      'QUEUED (waiting for a fitting idle worker) -> ASSIGNED (sent in a sync answer) -> PROCESSING (first progress report) -> COMPLETED | FAILED (finalize). CANCELLED by the operator at any point before the end. A split job (--split-min-duration) is PROCESSING from its split until its stitch COMPLETES it or a part fails for good.',
  },
);
export type JobState = Static<typeof JobState>;

/** A Job without job_id (the orchestrator makes one up when it is absent). */
export const EnqueueJobRequest = Type.Object(
  {
    ...Job.properties,
    job_id: Type.Optional(Type.String({ minLength: 1, description: 'Generated when absent.' })),
    source_duration_sec: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        description:
          'Seconds of the source, for the split policy (--split-min-duration): when given, the orchestrator does ' +
          'not probe the file. Not sent to workers.',
      }),
    ),
  },
  { additionalProperties: true, $id: 'EnqueueJobRequest' },
);
export type EnqueueJobRequest = Static<typeof EnqueueJobRequest>;

export const ProgressSample = Type.Object({
  at: Type.String({ description: 'ISO time the report arrived.' }),
  progress: Type.Number(),
  current_fps: Type.Number(),
  eta_sec: Type.Number(),
});
export type ProgressSample = Static<typeof ProgressSample>;

export const ChildSummary = Type.Object(
  {
    job_id: Type.String(),
    index: Type.Optional(Type.Integer({ description: 'Parts only: the part index.' })),
    status: JobState,
    progress: Type.Number(),
    worker_id: Type.Optional(Type.String({ description: 'The worker running it (or that ran it last).' })),
    attempts: Type.Integer({ description: 'Times it was handed to a worker (a failed part is re-queued alone).' }),
    start_segment: Type.Optional(Type.Integer()),
    end_segment: Type.Optional(Type.Integer()),
  },
  { $id: 'ChildSummary' },
);
export type ChildSummary = Static<typeof ChildSummary>;

export const JobRecord = Type.Object(
  {
    job_id: Type.String(),
    status: JobState,
    job: Job,
    worker_id: Type.Optional(Type.String({ description: 'The worker it was assigned to.' })),
    enqueued_at: Type.String(),
    assigned_at: Type.Optional(Type.String()),
    started_at: Type.Optional(Type.String({ description: 'First progress report.' })),
    finished_at: Type.Optional(Type.String()),
    cancelled_at: Type.Optional(Type.String()),
    progress: Type.Number({ description: 'Last reported progress, 0..100.' }),
    current_fps: Type.Optional(Type.Number()),
    eta_sec: Type.Optional(Type.Number()),
    progress_history: Type.Array(ProgressSample, { description: 'Every progress report (the last 1000).' }),
    finalize: Type.Optional(FinalizeRequest),
    finalize_count: Type.Integer({ description: 'Finalize calls accepted (repeats of the same result included).' }),
    manifest_url: Type.Optional(Type.String()),
    error_msg: Type.Optional(Type.String()),
    lost: Type.Optional(
      Type.Boolean({ description: 'Failed by the orchestrator because its worker stopped reporting it.' }),
    ),
    waiting_reason: Type.Optional(Type.String({ description: 'Why no registered worker fits this queued job.' })),
    source_duration_sec: Type.Optional(Type.Number({ description: 'Source duration the split policy used.' })),
    split_note: Type.Optional(
      Type.String({ description: 'With --split-min-duration: why this job was split, waits, or runs whole.' }),
    ),
    parent_job_id: Type.Optional(Type.String({ description: 'A part or stitch job: the split job it belongs to.' })),
    attempts: Type.Optional(Type.Integer({ description: 'A part or stitch job: times it was handed to a worker.' })),
    parts: Type.Optional(
      Type.Array(ChildSummary, {
        description:
          'A split job: its parts, in order. Its progress is theirs weighted by segments, the stitch the last 5 %.',
      }),
    ),
    stitch: Type.Optional(ChildSummary),
  },
  { $id: 'JobRecord' },
);
export type JobRecord = Static<typeof JobRecord>;

export const JobList = Type.Object({ jobs: Type.Array(JobRecord) }, { $id: 'JobList' });

export const WorkerRecord = Type.Object(
  {
    worker_id: Type.String(),
    capabilities: Capabilities,
    registered_at: Type.String({ description: 'Last registration.' }),
    registrations: Type.Integer({ description: 'How many times it registered since this orchestrator started.' }),
    last_seen: Type.String(),
    syncs: Type.Integer(),
    status: Type.Optional(WorkerStatus),
    hardware_stats: Type.Optional(HardwareStats),
    current_job_id: Type.String({ description: 'As last reported by the worker.' }),
    running_job_id: Type.Optional(Type.String({ description: 'The job the orchestrator believes it runs.' })),
  },
  { $id: 'WorkerRecord' },
);
export type WorkerRecord = Static<typeof WorkerRecord>;

export const WorkerList = Type.Object({ workers: Type.Array(WorkerRecord) }, { $id: 'WorkerList' });

export const ErrorBody = Type.Object(
  {
    error: Type.String({
      description: 'Stable code: bad_request, unauthorized, not_registered, not_found, conflict, gone.',
    }),
    message: Type.String({ description: 'What is wrong, for a person.' }),
  },
  { $id: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Operator routes, for the OpenAPI generator (tag "dev-orchestrator"). */
export const OPERATOR_ROUTES = [
  {
    method: 'post',
    path: '/api/v1/jobs',
    summary: 'Enqueue a job',
    body: EnqueueJobRequest,
    response: JobRecord,
    errors: [400, 409],
  },
  {
    method: 'get',
    path: '/api/v1/jobs',
    summary: 'List jobs (optional ?status=QUEUED etc.)',
    response: JobList,
    errors: [],
  },
  {
    method: 'get',
    path: '/api/v1/jobs/{job_id}',
    summary: 'One job with its history (a split job: its parts, its stitch and their weighted progress)',
    response: JobRecord,
    errors: [404],
  },
  {
    method: 'post',
    path: '/api/v1/jobs/{job_id}/cancel',
    summary: 'Cancel a job; its worker learns it on the next sync or progress report',
    response: JobRecord,
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/api/v1/jobs/{job_id}/retry',
    summary:
      'Queue a FAILED or CANCELLED job again under its id; a resumable one goes first to the worker that kept its segments',
    response: JobRecord,
    errors: [404, 409],
  },
  { method: 'get', path: '/api/v1/workers', summary: 'List registered workers', response: WorkerList, errors: [] },
] as const;
