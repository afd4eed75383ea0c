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
    extensions: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'Optional protocol extensions this worker implements, e.g. ["split-stitch/1"] (see "Extension: split and ' +
          'stitch"). Absent or []: none; an orchestrator sends an extension\'s jobs only to workers that list it.',
      }),
    ),
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
    resolution: Type.String({
      description: 'An even height such as 360p, 576p, 720p or 1080p (16p to 4320p), 4k, 8k, or WIDTHxHEIGHT.',
    }),
    bitrate: Type.String({ description: 'Video bitrate such as "2500k" or "5M" (bits per second), 16k to 500M.' }),
    codec: Type.String({ description: 'ffmpeg encoder name, e.g. libx264 or h264_nvenc.' }),
    dest_path: Type.String({
      description:
        'Folder of this rendition: relative to output_base when the job has one, else to the NAS root. An ' +
        'absolute path is accepted only inside the NAS root (and inside output_base); ".." may not climb out of ' +
        'the NAS root. Each output has its own folder, side by side (none inside another); it must not hold the ' +
        'source, and must not be or lie inside the master\'s tracks folder "<master folder>/<master stem>_tracks" ' +
        '(e.g. "index_tracks"), where the audio and subtitle renditions go. Folder names: no control characters, ' +
        'no < > : " | ? *, no trailing dot or space, no Windows device names (CON, NUL...).',
    }),
    audio_codec: Type.Optional(
      Type.String({
        description:
          'Codec of the stereo audio this rendition plays with: only "aac" (AAC-LC, the group every player ' +
          'plays); "" means "aac". Any other value ("mp3", "opus", "ac3"...) fails the job: surround sound is ' +
          'asked for with audio_config.surround.',
      }),
    ),
    audio_bitrate: Type.Optional(
      Type.String({
        description:
          'AAC stereo bitrate for this rendition, "32k" to "512k"; default audio_config.bitrate, else 128k ("" ' +
          'means the default).',
      }),
    ),
  },
  Open,
);
export type JobOutput = Static<typeof JobOutput>;

/** The protocol extension of part and stitch jobs (docs/protocol.md, "Extension: split and stitch"). */
export const SPLIT_STITCH_EXTENSION = 'split-stitch/1';

export const JobPart = Type.Object(
  {
    parent_job_id: Type.String({ minLength: 1, description: 'The job this part belongs to (the film as a whole).' }),
    index: Type.Integer({ minimum: 0, description: "This part's place, 0-based: part 0 starts the film." }),
    count: Type.Integer({ minimum: 1, description: 'How many parts the film is cut into.' }),
    start_segment: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], {
        description:
          'First segment of this part (0-based index K: the segment that starts at K * segment_time in the whole ' +
          'film); any segment. null or absent (then end_segment too): the worker cuts the film into `count` parts as ' +
          'equal as can be itself and encodes part `index`.',
      }),
    ),
    end_segment: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
        description:
          'Exclusive end: the first segment NOT in this part (the next ' +
          "part's start_segment). null or absent: to the end of the film.",
      }),
    ),
  },
  {
    ...Open,
    description:
      'Present only on a part job (extension split-stitch/1, sent only to workers that list it): encode this ' +
      "range of the film and commit it to the parts area. Every other field is the parent job's.",
  },
);
export type JobPart = Static<typeof JobPart>;

export const JobStitch = Type.Object(
  {
    parent_job_id: Type.String({ minLength: 1, description: 'The job whose parts are stitched.' }),
    count: Type.Integer({ minimum: 1, description: 'How many parts there are (parts 0 to count - 1).' }),
  },
  {
    ...Open,
    description:
      'Present only on a stitch job (extension split-stitch/1): join the committed parts of parent_job_id into ' +
      "the ladder at the job's destinations. Every other field is the parent job's.",
  },
);
export type JobStitch = Static<typeof JobStitch>;

export const Job = Type.Object(
  {
    job_id: Type.String({
      minLength: 1,
      description: 'A JSON number is also accepted and used as its decimal string. "" (with no job) means no job.',
    }),
    movie_id: Type.Optional(Type.String({ description: "The orchestrator's own reference; the worker ignores it." })),
    input: Type.Object(
      {
        source_url: Type.String({
          minLength: 1,
          description:
            'Source file, relative to the NAS root (an absolute path only when it lies inside it). Subtitle ' +
            'sidecar files are looked for in its folder.',
        }),
        format: Type.Optional(
          Type.String({ description: 'Container hint such as "mkv"; the worker probes the file instead.' }),
        ),
      },
      { ...Open, description: 'The film to transcode.' },
    ),
    outputs: Type.Array(JobOutput, {
      minItems: 1,
      description: 'The video renditions of the ladder, at most 16: one folder each, all sharing the audio tracks.',
    }),
    // Orchestrators written in Go send zero values for fields they did not set ("" and 0; a nil struct, slice or
    // pointer as null, see src/job/parse-job.ts): those mean "the default" here, not a malformed job.
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
        { ...Open, description: 'How the ladder is packaged; absent or null: the defaults.' },
      ),
    ),
    output_base: Type.Optional(
      Type.String({
        description:
          'Folder relative to the NAS root that holds the master playlist, and against which every relative ' +
          'dest_path is resolved ("720p" is "<output_base>/720p"). Same rules as dest_path: inside the NAS root ' +
          '(an absolute path only when it lies inside it), never the NAS root itself, the same folder-name rules. ' +
          'Every output must lie inside it. Absent, "" or null: dest_paths are relative to the NAS root and the ' +
          'master goes in the deepest folder common to all of them (which must not be the NAS root). Either way ' +
          'the audio and subtitle renditions go in "<master folder>/<master stem>_tracks".',
      }),
    ),
    audio_config: Type.Optional(
      Type.Object(
        {
          codec: Type.Optional(
            Type.String({
              description:
                'Codec of the always-present stereo group: only "aac" (AAC-LC, which every player plays); "" ' +
                'means "aac". Any other value fails the job.',
            }),
          ),
          bitrate: Type.Optional(
            Type.String({
              description:
                'AAC stereo bitrate of each audio track, "32k" to "512k"; default 128k (also when ""). An ' +
                "output's audio_bitrate overrides it for that output.",
            }),
          ),
          surround: Type.Optional(
            Type.Boolean({
              description:
                'true: source tracks with more than two channels are also encoded as 5.1 in a second audio group ' +
                '(surround_codec), and each video rendition is listed once per group in the master. Stereo ' +
                'sources are unchanged. Default false.',
            }),
          ),
          surround_codec: Type.Optional(
            Type.String({
              description: 'Codec of the 5.1 group: "eac3" (E-AC-3, the default, also when "") or "ac3" (AC-3).',
            }),
          ),
          surround_bitrate: Type.Optional(
            Type.String({ description: 'Bitrate of each 5.1 track, "192k" to "640k"; default 384k (also when "").' }),
          ),
          languages: Type.Optional(
            Type.Array(Type.String(), {
              maxItems: 64,
              description:
                'Keep only the audio tracks in these languages: ISO 639-1 ("fr"), ISO 639-2 ("fre", "fra") or ' +
                'BCP-47 ("pt-BR", compared by its language: "pt"). A track without a language tag is kept only ' +
                'when no track matched. Absent, null or []: every track.',
            }),
          ),
        },
        {
          ...Open,
          description:
            'Audio of the whole job; absent or null: the defaults. Every audio track of the source becomes an HLS ' +
            'audio rendition, encoded once, in an AAC stereo group that every video rendition plays with. Fields ' +
            'left "" or null mean the default.',
        },
      ),
    ),
    subtitles: Type.Optional(
      Type.Object(
        {
          include: Type.Optional(
            Type.Boolean({
              description:
                'Text subtitle streams of the source (SubRip, ASS/SSA, mov_text, WebVTT) become segmented WebVTT ' +
                'renditions. Default true. Image subtitles (PGS, DVB, VobSub) are never burned in: they are ' +
                'listed in the finalize metrics.',
            }),
          ),
          sidecars: Type.Optional(
            Type.Boolean({
              description:
                'Subtitle files beside the source, named like "Movie.en.srt", "Movie.fr.forced.srt" or ' +
                '"Movie.de.sdh.vtt", are added too. Default true.',
            }),
          ),
        },
        {
          ...Open,
          description:
            'Subtitles of the whole job; absent or null: both true. false means false here, so an orchestrator ' +
            'in Go should send this object as a pointer (null when unset), or fill both fields.',
        },
      ),
    ),
    part: Type.Optional(JobPart),
    stitch: Type.Optional(JobStitch),
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
    audio_renditions: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'Audio renditions published (every kept source track, once per audio group).',
      }),
    ),
    subtitle_renditions: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: 'WebVTT subtitle renditions published (embedded text tracks and sidecar files).',
      }),
    ),
    skipped_subtitles: Type.Optional(
      Type.Array(
        Type.Object(
          {
            stream_index: Type.Integer({ minimum: 0 }),
            codec: Type.String({ description: 'hdmv_pgs_subtitle, dvd_subtitle, dvb_subtitle, ...' }),
            language: Type.Optional(Type.String({ description: "The stream's language tag as the file has it." })),
            reason: Type.String(),
          },
          Open,
        ),
        {
          description:
            'Subtitle streams of the source left out: image subtitles (PGS, DVB, VobSub) are never burned in by ' +
            'default, so the orchestrator can decide what to do with them.',
        },
      ),
    ),
    subtitle_warnings: Type.Optional(
      Type.Array(Type.String(), {
        description: 'Text subtitle tracks left out because their data could not be read (a malformed SRT), and why.',
      }),
    ),
    part: Type.Optional(
      Type.Object(
        {
          index: Type.Integer({ minimum: 0 }),
          count: Type.Integer({ minimum: 1 }),
          start_segment: Type.Integer({ minimum: 0 }),
          end_segment: Type.Integer({
            minimum: 1,
            description: "The real exclusive end the part produced (the film's segment count for the last part).",
          }),
          segments: Type.Integer({ minimum: 0, description: 'Segments per rendition this part made.' }),
        },
        { ...Open, description: 'A part job (split-stitch/1): the range it committed to the parts area.' },
      ),
    ),
    stitch: Type.Optional(
      Type.Object(
        {
          parts: Type.Integer({ minimum: 1, description: 'Parts joined.' }),
          segments: Type.Integer({ minimum: 0, description: 'Segments per rendition of the whole film.' }),
        },
        { ...Open, description: 'A stitch job (split-stitch/1): what it joined.' },
      ),
    ),
    resume: Type.Optional(
      Type.Object(
        {
          resumed_from_segment: Type.Optional(
            Type.Integer({
              minimum: 0,
              description: 'This run continued an interrupted run of the same job from this segment (0: none).',
            }),
          ),
          segments_total: Type.Optional(
            Type.Integer({ minimum: 0, description: 'Segments per rendition of the job.' }),
          ),
          resumable: Type.Optional(
            Type.Boolean({
              description:
                'On FAILED: the finished segments are kept on this worker, so assigning the same job to the same ' +
                'worker_id again continues from segments_done instead of starting over.',
            }),
          ),
          segments_done: Type.Optional(
            Type.Integer({ minimum: 0, description: 'Segments every rendition had finished when the run stopped.' }),
          ),
          restart_reason: Type.Optional(
            Type.String({
              description:
                'On COMPLETED: an interrupted run of this job was kept here but not continued, and why (the source ' +
                "changed, the job's outputs or this worker's encoders changed, nothing was finished).",
            }),
          ),
        },
        { ...Open, description: 'Resumable jobs: where this run started and, on FAILED, how far it got.' },
      ),
    ),
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
