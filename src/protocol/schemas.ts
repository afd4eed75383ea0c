/**
 * Every payload exchanged with the orchestrator, as TypeBox schemas. They are the single source of truth: the
 * client validates answers against them, the dev orchestrator validates requests against them, and
 * docs/protocol.md (OpenAPI 3.1) is generated from them.
 *
 * Requests we send are closed (additionalProperties: false) so we never leak fields by accident; answers we
 * receive are open, so an orchestrator that adds fields keeps working with older workers.
 */
import { Type, type Static } from '@sinclair/typebox';

const Open = { additionalProperties: true } as const;

export const GpuType = Type.Union(
  [
    Type.Literal('nvidia'),
    Type.Literal('intel'),
    Type.Literal('amd'),
    Type.Literal('raspberrypi'),
    Type.Literal('none'),
  ],
  { description: 'GPU family whose hardware encoder passed a real test encode; "none" otherwise.' },
);

export const Capabilities = Type.Object(
  {
    supported_codecs: Type.Array(Type.String(), {
      description: 'ffmpeg encoder names verified by a real test encode on this host (e.g. libx264, h264_nvenc, aac).',
    }),
    has_gpu: Type.Boolean({ description: 'True only when a hardware encoder passed its test encode.' }),
    gpu_type: GpuType,
    max_resolution: Type.String({ description: 'Highest verified output resolution: 2160p, 1440p, 1080p or 720p.' }),
    cpu_arch: Type.Optional(Type.String()),
    cpu_cores: Type.Optional(Type.Integer({ minimum: 0 })),
    cpu_model: Type.Optional(Type.String()),
    ram_total_mb: Type.Optional(Type.Integer({ minimum: 0 })),
    hw_decoders: Type.Optional(
      Type.Array(Type.String(), { description: 'Verified hwaccels: cuda, qsv, vaapi, v4l2m2m.' }),
    ),
    max_encode_sessions: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Concurrent hardware encoder sessions that worked (0: no hardware).' }),
    ),
    ffmpeg_version: Type.Optional(Type.String()),
    worker_version: Type.Optional(Type.String()),
  },
  { additionalProperties: false, $id: 'Capabilities' },
);
export type Capabilities = Static<typeof Capabilities>;

export const RegisterRequest = Type.Object(
  { worker_id: Type.String({ minLength: 1 }), capabilities: Capabilities },
  { additionalProperties: false, $id: 'RegisterRequest' },
);
export type RegisterRequest = Static<typeof RegisterRequest>;

export const RegisterResponse = Type.Object(
  { ack: Type.Optional(Type.Boolean()) },
  { ...Open, $id: 'RegisterResponse', description: 'Any JSON object; an empty body is accepted too.' },
);
export type RegisterResponse = Static<typeof RegisterResponse>;

export const WorkerStatus = Type.Union([Type.Literal('IDLE'), Type.Literal('BUSY')]);
export type WorkerStatus = Static<typeof WorkerStatus>;

export const HardwareStats = Type.Object(
  {
    cpu_percent: Type.Number({ minimum: 0 }),
    ram_percent: Type.Number({ minimum: 0 }),
    is_busy: Type.Boolean({ description: 'True while a job runs or while the host is loaded by others.' }),
  },
  { additionalProperties: false },
);
export type HardwareStats = Static<typeof HardwareStats>;

export const SyncRequest = Type.Object(
  {
    worker_id: Type.String({ minLength: 1 }),
    status: WorkerStatus,
    hardware_stats: HardwareStats,
    current_job_id: Type.String({ description: 'The running job, or "" when idle.' }),
  },
  { additionalProperties: false, $id: 'SyncRequest' },
);
export type SyncRequest = Static<typeof SyncRequest>;

export const JobOutput = Type.Object(
  {
    resolution: Type.String({ description: '240p, 360p, 480p, 720p, 1080p, 1440p, 2160p, 4k, or WIDTHxHEIGHT.' }),
    bitrate: Type.String({ description: 'Video bitrate such as "2500k" or "5M".' }),
    codec: Type.String({ description: 'ffmpeg encoder name, e.g. libx264 or h264_nvenc.' }),
    dest_path: Type.String({ description: 'Folder relative to the NAS root for this rendition.' }),
    audio_bitrate: Type.Optional(Type.String({ description: 'AAC bitrate, default 128k ("" means the default).' })),
  },
  Open,
);
export type JobOutput = Static<typeof JobOutput>;

export const Job = Type.Object(
  {
    job_id: Type.String({
      minLength: 1,
      description: 'A JSON number is also accepted and used as its decimal string. "" (with no job) means no job.',
    }),
    movie_id: Type.Optional(Type.String()),
    input: Type.Object(
      {
        source_url: Type.String({ minLength: 1, description: 'Source path relative to the NAS root.' }),
        format: Type.Optional(Type.String()),
      },
      Open,
    ),
    outputs: Type.Array(JobOutput, { minItems: 1 }),
    // Orchestrators written in Go send zero values for fields they did not set ("" and 0; a nil struct as null,
    // see src/job/parse-job.ts): those mean "the default" here, not a malformed job.
    hls_settings: Type.Optional(
      Type.Object(
        {
          master_playlist_name: Type.Optional(Type.String({ description: 'Default index.m3u8 (also when "").' })),
          segment_time: Type.Optional(Type.Number({ description: 'Seconds, 1 to 30; default 6 (also when 0).' })),
          segment_type: Type.Optional(
            Type.Union([Type.Literal('ts'), Type.Literal('fmp4'), Type.Literal('')], {
              description: 'Default ts (also when "").',
            }),
          ),
        },
        { ...Open, description: 'Optional; null is read as absent.' },
      ),
    ),
  },
  { ...Open, $id: 'Job' },
);
export type Job = Static<typeof Job>;

export const SyncResponse = Type.Object(
  {
    ack: Type.Optional(Type.Boolean()),
    assigned_job: Type.Optional(
      Type.Union([Type.Null(), Type.Unknown()], {
        description: 'A Job, validated on its own so a malformed job fails only that job.',
      }),
    ),
    cancel_current_job: Type.Optional(Type.Boolean({ description: 'Abort the running job; nothing is committed.' })),
  },
  { ...Open, $id: 'SyncResponse' },
);
export type SyncResponse = Static<typeof SyncResponse>;

export const ProgressRequest = Type.Object(
  {
    worker_id: Type.String({ minLength: 1 }),
    status: Type.Literal('PROCESSING'),
    progress: Type.Number({ minimum: 0, maximum: 100 }),
    current_fps: Type.Number({ minimum: 0 }),
    eta_sec: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false, $id: 'ProgressRequest' },
);
export type ProgressRequest = Static<typeof ProgressRequest>;

export const FinalizeMetrics = Type.Object(
  {
    total_time_ms: Type.Number({ minimum: 0 }),
    transcode_time_ms: Type.Optional(Type.Number({ minimum: 0 })),
    commit_time_ms: Type.Optional(Type.Number({ minimum: 0 })),
    output_bytes: Type.Optional(Type.Number({ minimum: 0 })),
    encoders: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'dest_path -> encoder that produced it.' }),
    ),
    software_fallback: Type.Optional(
      Type.String({ description: 'Why the hardware run failed, when the job was redone once in software.' }),
    ),
    gpu_device: Type.Optional(
      Type.String({ description: 'The GPU the job ran on: an NVIDIA index ("1") or a render node.' }),
    ),
    gpu_family: Type.Optional(Type.String({ description: 'nvidia, qsv or vaapi, with gpu_device.' })),
  },
  Open,
);
export type FinalizeMetrics = Static<typeof FinalizeMetrics>;

export const FinalizeRequest = Type.Object(
  {
    worker_id: Type.String({ minLength: 1 }),
    status: Type.Union([Type.Literal('COMPLETED'), Type.Literal('FAILED')]),
    manifest_url: Type.Optional(Type.String()),
    error_msg: Type.Optional(Type.String()),
    metrics: FinalizeMetrics,
  },
  { additionalProperties: false, $id: 'FinalizeRequest' },
);
export type FinalizeRequest = Static<typeof FinalizeRequest>;

export const AnyAck = Type.Object({}, { ...Open, $id: 'Ack' });

/** Routes, for the OpenAPI generator and the dev orchestrator. */
export const PROTOCOL_ROUTES = [
  { method: 'post', path: '/api/v1/workers/register', body: RegisterRequest, response: RegisterResponse },
  { method: 'post', path: '/api/v1/workers/sync', body: SyncRequest, response: SyncResponse },
  { method: 'patch', path: '/api/v1/jobs/{job_id}', body: ProgressRequest, response: AnyAck },
  { method: 'post', path: '/api/v1/jobs/{job_id}/finalize', body: FinalizeRequest, response: AnyAck },
] as const;
