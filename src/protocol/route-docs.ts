/**
 * The meaning of each route, in words: used by the OpenAPI document and docs/protocol.md. The schemas say what a
 * payload looks like; this says what each answer means to the worker.
 */

export interface RouteDoc {
  operationId?: string;
  summary: string;
  description?: string;
  /** Description of the 200 answer. */
  ok: string;
  /** Status -> what it means for this route (added to the responses). */
  errors?: Record<number, string>;
  /** Query parameters (name, schema, description). */
  query?: { name: string; schema: { type: 'string'; enum?: string[] }; description: string }[];
}

export const OPERATOR_401 = 'The dev orchestrator runs with --auth-token and the Bearer token was missing or wrong.';

export const STATUS_TEXT: Record<number, string> = {
  400: 'The body does not match the schema; `message` names the field.',
  401: 'An auth token is required and was missing or wrong. The worker logs it as an auth problem and does not crash.',
  404: 'Not found.',
  409: 'Conflict.',
  410: 'Gone.',
};

export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'POST /api/v1/workers/register': {
    operationId: 'registerWorker',
    summary: 'Register a worker and its verified capabilities',
    description:
      'Sent once at start, and again whenever a sync answers 404. Registering twice is harmless: the orchestrator replaces the stored capabilities. The worker retries with capped exponential backoff while the orchestrator is unreachable or answers 5xx.',
    ok: 'Registered. Any JSON object (an empty body is accepted too).',
  },
  'POST /api/v1/workers/sync': {
    operationId: 'syncWorker',
    summary: 'Heartbeat and job assignment',
    description:
      'Sent every sync_interval, and at once after a job ends. The orchestrator records status and load. When the worker is IDLE, not is_busy and reports no current job, the answer may carry `assigned_job`: the worker starts it at once (one job at a time; an assignment that arrives while busy is not started). While a job runs, `cancel_current_job: true` tells the worker to abort it: ffmpeg is stopped, nothing is committed and no finalize is sent.',
    ok: 'Acknowledged; may carry assigned_job or cancel_current_job.',
    errors: {
      404: 'The orchestrator does not know this worker (it restarted and lost its state). The worker registers again, then retries the sync once.',
    },
  },
  'PATCH /api/v1/jobs/{job_id}': {
    operationId: 'reportProgress',
    summary: 'Progress of the running job',
    description:
      'Sent every progress_interval while the value changes. progress is 0..100 and never decreases over one job.',
    ok: 'Recorded.',
    errors: {
      404: "The job is unknown here. The job is no longer the worker's: it aborts it (nothing committed, no finalize).",
      409: 'The job is assigned to another worker or already ended. The worker aborts it.',
      410: 'The job was cancelled. The worker aborts it.',
    },
  },
  'POST /api/v1/jobs/{job_id}/finalize': {
    operationId: 'finalizeJob',
    summary: 'The result of a job: COMPLETED with manifest_url, or FAILED with error_msg',
    description:
      'Delivered at least once: the worker writes the result to its state_dir before the first attempt and retries with backoff while the orchestrator is down or answers 5xx, across worker restarts too. An orchestrator MUST therefore treat a repeated finalize with the same status as success without changing anything. metrics.total_time_ms is always present; transcode_time_ms, commit_time_ms, output_bytes and encoders when known.',
    ok: 'Recorded (or a repeat of the recorded result).',
    errors: {
      404: 'The job is unknown here. The worker drops the result.',
      409: 'The job belongs to another worker, or was already finalized with another status. The worker drops the result.',
      410: 'The job was cancelled. The worker drops the result.',
    },
  },
  'POST /api/v1/jobs': {
    operationId: 'enqueueJob',
    summary: 'Enqueue a job (job_id generated when absent)',
    ok: 'The new job record (status QUEUED).',
    errors: { 409: 'A job with this job_id exists.' },
  },
  'GET /api/v1/jobs': {
    operationId: 'listJobs',
    summary: 'List jobs in queue order',
    ok: 'The jobs.',
    errors: { 400: 'Unknown status in the query.' },
    query: [
      {
        name: 'status',
        schema: { type: 'string', enum: ['QUEUED', 'ASSIGNED', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED'] },
        description: 'Only the jobs in this state (case-insensitive).',
      },
    ],
  },
  'GET /api/v1/jobs/{job_id}': {
    operationId: 'getJob',
    summary: 'One job: state, worker, progress history, finalize payload, and why it waits when queued',
    ok: 'The job record.',
    errors: { 404: 'No such job.' },
  },
  'POST /api/v1/jobs/{job_id}/cancel': {
    operationId: 'cancelJob',
    summary: 'Cancel a job',
    description:
      "A queued job is never assigned. A running job's worker learns it from its next sync (cancel_current_job) or progress report (410). Cancelling twice is harmless.",
    ok: 'The job record (status CANCELLED).',
    errors: { 404: 'No such job.', 409: 'The job already ended (COMPLETED or FAILED).' },
  },
  'GET /api/v1/workers': {
    operationId: 'listWorkers',
    summary: 'Registered workers with their capabilities, last sync and load',
    ok: 'The workers.',
  },
};
