/**
 * The configuration's schema: every key with its doc, format, default, environment variable and flag. It is the
 * single source of truth: the Config type is derived from it (config.ts), config-example.yml and docs/config.md are
 * generated from it (src/docs/config-doc.ts) and the CLI's flags are read from it.
 */
import os from 'node:os';
import path from 'node:path';
import type { KnownFormat } from './config-formats.js';
import { RESOLUTION_LABELS } from './media/resolutions.js';

function defaultStateDir(): string {
  if (process.platform === 'win32') {
    const base = process.env.LOCALAPPDATA ?? path.join(os.homedir(), 'AppData', 'Local');
    return path.join(base, 'transcode-worker', 'state');
  }
  const xdg = process.env.XDG_STATE_HOME ?? path.join(os.homedir(), '.local', 'state');
  return path.join(xdg, 'transcode-worker');
}

export const configSchema = {
  orchestrator_url: {
    doc: 'Base URL of the orchestrator (the /api/v1/... paths are appended). A user:password@ in it is sent as HTTP Basic authentication (instead of auth_token) and never shown: /status and the logs show [redacted]@.',
    format: 'http-url',
    default: 'http://127.0.0.1:8080',
    env: 'WORKER_ORCHESTRATOR_URL',
    arg: 'orchestrator-url',
  },
  worker_id: {
    doc: 'Name this worker registers under. Must be unique in the farm.',
    format: 'non-empty',
    default: os.hostname(),
    defaultDoc: 'the host name',
    env: 'WORKER_ID',
    arg: 'worker-id',
  },
  auth_token: {
    doc: 'Bearer token sent as "Authorization: Bearer <token>" when set.',
    format: String,
    default: '',
    sensitive: true,
    env: 'WORKER_AUTH_TOKEN',
    arg: 'auth-token',
  },
  ca_file: {
    doc: 'PEM file of extra certificate authorities to trust for an https:// orchestrator, on top of the ones Node trusts anyway (its bundled roots and NODE_EXTRA_CA_CERTS).',
    format: String,
    default: '',
    env: 'WORKER_CA_FILE',
    arg: 'ca-file',
  },
  request_timeout: {
    doc: 'Longest time one HTTP request to the orchestrator may take, from connecting to the last byte of the answer (and the longest it may stay silent); at least 100ms. Redirects are never followed and answers over 1 MiB are refused.',
    format: 'duration',
    default: '10s',
    env: 'WORKER_REQUEST_TIMEOUT',
    arg: 'request-timeout',
  },
  retry_max_delay: {
    doc: 'Longest wait between two attempts to register or deliver a result (exponential backoff with full jitter up to this).',
    format: 'duration',
    default: '30s',
    env: 'WORKER_RETRY_MAX_DELAY',
    arg: 'retry-max-delay',
  },
  nas_mount_path: {
    doc: 'Folder where the NAS is mounted. Every source_url and dest_path resolves inside it.',
    format: 'non-empty',
    default: process.platform === 'win32' ? 'Z:\\' : '/mnt/nas',
    defaultDoc: '/mnt/nas (Z:\\ on Windows)',
    env: 'WORKER_NAS_MOUNT_PATH',
    arg: 'nas-mount-path',
  },
  temp_dir: {
    doc: 'Local staging folder for job outputs before the commit (may be a tmpfs; needs room for one job).',
    format: 'non-empty',
    default: path.join(os.tmpdir(), 'transcode-worker'),
    defaultDoc: '<OS temp folder>/transcode-worker',
    env: 'WORKER_TEMP_DIR',
    arg: 'temp-dir',
  },
  state_dir: {
    doc: 'Persistent folder for the durable records (running job, undelivered results, probe cache). Must survive reboots: not inside temp_dir.',
    format: 'non-empty',
    default: defaultStateDir(),
    defaultDoc:
      '$XDG_STATE_HOME/transcode-worker (~/.local/state/transcode-worker); %LOCALAPPDATA%\\transcode-worker\\state on Windows',
    env: 'WORKER_STATE_DIR',
    arg: 'state-dir',
  },
  resume_keep: {
    doc: 'How long the finished segments of an interrupted job (crash, power cut, shutdown, failure) are kept in temp_dir so that the job, when it comes back, resumes after the last finished segment instead of starting from zero. 0 turns resume off. temp_dir must survive a reboot (not a tmpfs) for a resume after one.',
    format: 'duration',
    default: '24h',
    env: 'WORKER_RESUME_KEEP',
    arg: 'resume-keep',
  },
  resume_disk_budget: {
    doc: 'The most local disk (in temp_dir) that the staging of interrupted jobs kept for a resume may take, all of them together; over it the oldest are dropped first. The running job does not count.',
    format: 'size',
    default: '50GB',
    env: 'WORKER_RESUME_DISK_BUDGET',
    arg: 'resume-disk-budget',
  },
  sync_interval: {
    doc: 'Time between two syncs (heartbeat + job assignment).',
    format: 'duration',
    default: '10s',
    env: 'WORKER_SYNC_INTERVAL',
    arg: 'sync-interval',
  },
  progress_interval: {
    doc: 'Time between two progress reports while a job runs.',
    format: 'duration',
    default: '2s',
    env: 'WORKER_PROGRESS_INTERVAL',
    arg: 'progress-interval',
  },
  stall_timeout: {
    doc: 'A job whose ffmpeg reports no progress for this long is killed and failed.',
    format: 'duration',
    default: '120s',
    env: 'WORKER_STALL_TIMEOUT',
    arg: 'stall-timeout',
  },
  shutdown_timeout: {
    doc: 'On SIGTERM, how long to wait for the orchestrator to accept the final FAILED result before exiting.',
    format: 'duration',
    default: '5s',
    env: 'WORKER_SHUTDOWN_TIMEOUT',
    arg: 'shutdown-timeout',
  },
  log_level: {
    doc: 'Log level.',
    format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    env: 'WORKER_LOG_LEVEL',
    arg: 'log-level',
  },
  http: {
    host: {
      doc: 'Address of the health/metrics server. Use 127.0.0.1 to keep it local.',
      format: 'non-empty',
      default: '0.0.0.0',
      env: 'WORKER_HTTP_HOST',
      arg: 'http-host',
    },
    port: {
      doc: 'Port of the health/metrics server (0 picks a free one).',
      format: 'port',
      default: 9470,
      env: 'WORKER_HTTP_PORT',
      arg: 'http-port',
    },
  },
  ffmpeg_path: {
    doc: 'ffmpeg executable (a path, or a name looked up in PATH).',
    format: 'non-empty',
    default: 'ffmpeg',
    env: 'WORKER_FFMPEG_PATH',
    arg: 'ffmpeg-path',
  },
  ffprobe_path: {
    doc: 'ffprobe executable (a path, or a name looked up in PATH).',
    format: 'non-empty',
    default: 'ffprobe',
    env: 'WORKER_FFPROBE_PATH',
    arg: 'ffprobe-path',
  },
  hwaccel: {
    doc: 'Which hardware family may be used: auto (whatever the probe verified), none (software only), or one family.',
    format: ['auto', 'none', 'nvenc', 'qsv', 'vaapi', 'v4l2m2m'],
    default: 'auto',
    env: 'WORKER_HWACCEL',
    arg: 'hwaccel',
  },
  vaapi_device: {
    doc: 'VAAPI/QSV render node; empty means the first /dev/dri/renderD* found.',
    format: String,
    default: '',
    env: 'WORKER_VAAPI_DEVICE',
    arg: 'vaapi-device',
  },
  max_resolution: {
    doc: 'Cap on the max_resolution this worker declares (a weak box may not want 4K jobs). "auto": no cap.',
    format: ['auto', ...RESOLUTION_LABELS],
    default: 'auto',
    env: 'WORKER_MAX_RESOLUTION',
    arg: 'max-resolution',
  },
  probe_timeout: {
    doc: 'Time limit of one test encode during capability probing.',
    format: 'duration',
    default: '15s',
    env: 'WORKER_PROBE_TIMEOUT',
    arg: 'probe-timeout',
  },
  allow_software_fallback: {
    doc: 'When the requested hardware encoder is missing or fails, encode with the software equivalent instead of failing.',
    format: Boolean,
    default: true,
    env: 'WORKER_ALLOW_SOFTWARE_FALLBACK',
    arg: 'allow-software-fallback',
  },
  x264_preset: {
    doc:
      'Preset of libx264/libx265 (speed vs size); libsvtav1 takes the matching SVT-AV1 preset (veryfast 11, fast ' +
      '10, medium 8). "auto" picks by host: veryfast on small ARM boards, fast elsewhere.',
    format: ['auto', 'ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow'],
    default: 'auto',
    env: 'WORKER_X264_PRESET',
    arg: 'x264-preset',
  },
  hls_codec_limits: {
    doc:
      'Highest H.264/HEVC levels a ladder may use, checked before encoding and again before commit: "strict" is ' +
      "High@4.2 and Main10@5.0 (Apple's HLS authoring spec as most Apple TVs and older iPhones need it: H.264 up " +
      'to 1080p60, HEVC up to 2160p30); "current" is Apple\'s current edition (High@5.2, Main10@5.1: H.264 and ' +
      'HEVC 2160p60); "off" checks no level.',
    format: ['strict', 'current', 'off'],
    default: 'strict',
    env: 'WORKER_HLS_CODEC_LIMITS',
    arg: 'hls-codec-limits',
  },
  commit_concurrency: {
    doc: 'How many files are copied to the NAS at once during the commit.',
    format: 'nat',
    default: 4,
    env: 'WORKER_COMMIT_CONCURRENCY',
    arg: 'commit-concurrency',
  },
  // ---- work hours (src/worker/work-hours.ts, docs/drain-and-work-hours.md) ----
  work_hours: {
    doc:
      'When this worker takes jobs, in local time (the TZ environment variable): ranges separated by commas, each ' +
      '"HH:MM-HH:MM" with optional weekdays before it, e.g. "22:00-07:00" or "Mon-Fri 18:00-08:00, Sat-Sun ' +
      '00:00-24:00". A range that crosses midnight belongs to the weekday it starts on. Outside them the worker ' +
      'syncs as BUSY and takes no job. Empty: always.',
    format: String,
    default: '',
    env: 'WORKER_WORK_HOURS',
    arg: 'work-hours',
  },
  work_hours_running_job: {
    doc:
      'What a job still running when the work hours end does: finish (it runs to its end) or pause (its ffmpeg is ' +
      'paused until the work hours start again, as for load from the owner).',
    format: ['finish', 'pause'],
    default: 'finish',
    env: 'WORKER_WORK_HOURS_RUNNING_JOB',
    arg: 'work-hours-running-job',
  },
  // ---- end of work hours ----
  busy_cpu_percent: {
    doc: 'Above this host CPU load (from any process) the worker reports BUSY so the host is left alone.',
    format: 'percent',
    default: 80,
    env: 'WORKER_BUSY_CPU_PERCENT',
    arg: 'busy-cpu-percent',
  },
  busy_ram_percent: {
    doc: 'Above this host RAM use the worker reports BUSY.',
    format: 'percent',
    default: 90,
    env: 'WORKER_BUSY_RAM_PERCENT',
    arg: 'busy-ram-percent',
  },
  // Issue 13, a good guest (docs/good-guest.md): priority and stepping aside while the owner needs the machine.
  process_priority: {
    doc:
      'CPU priority of ffmpeg and ffprobe: low (nice 10 / BELOW_NORMAL class, and best-effort-7 I/O on Linux), ' +
      'idle (nice 19 / IDLE class, idle I/O) or normal (unchanged).',
    format: ['low', 'normal', 'idle'],
    default: 'low',
    env: 'WORKER_PROCESS_PRIORITY',
    arg: 'process-priority',
  },
  pause_on_owner_load: {
    doc:
      'Pause the running ffmpeg while other programs load the host past busy_cpu_percent or busy_ram_percent ' +
      '(or use an NVIDIA GPU or its encoder): SIGSTOP on Linux/macOS, the idle priority class on Windows.',
    format: Boolean,
    default: true,
    env: 'WORKER_PAUSE_ON_OWNER_LOAD',
    arg: 'pause-on-owner-load',
  },
  pause_after: {
    doc: "How long the other programs' load must stay over the thresholds before the job is paused.",
    format: 'duration',
    default: '10s',
    env: 'WORKER_PAUSE_AFTER',
    arg: 'pause-after',
  },
  resume_after: {
    doc: 'How long their load must stay under the thresholds before a paused job resumes.',
    format: 'duration',
    default: '30s',
    env: 'WORKER_RESUME_AFTER',
    arg: 'resume-after',
  },
} as const satisfies ConfigSchemaShape;

interface LeafShape {
  readonly doc: string;
  readonly format: KnownFormat;
  readonly default: unknown;
  readonly defaultDoc?: string;
  readonly env?: string;
  readonly arg?: string;
  readonly sensitive?: boolean;
}

type ConfigSchemaShape = { readonly [key: string]: LeafShape | { readonly [key: string]: LeafShape } };

/** The value a key's format validates (and coerces) to. */
type ValueOf<L> = L extends { format: readonly (infer V)[] }
  ? V
  : L extends { format: 'duration' | 'size' | 'percent' | 'port' | 'nat' }
    ? number
    : L extends { format: BooleanConstructor }
      ? boolean
      : L extends { format: StringConstructor | 'http-url' | 'non-empty' }
        ? string
        : never;

/** The loaded configuration's shape, key for key the schema's (nested groups such as http included). */
export type ConfigOf<S> = {
  -readonly [K in keyof S]: S[K] extends { doc: string } ? ValueOf<S[K]> : ConfigOf<S[K]>;
};

export interface SchemaLeaf {
  key: string;
  doc: string;
  default: unknown;
  defaultDoc?: string;
  env?: string;
  arg?: string;
  format: unknown;
  sensitive?: boolean;
}

/** The schema flattened to dotted keys, in declaration order. */
export function schemaLeaves(schema: object = configSchema, prefix = ''): SchemaLeaf[] {
  const out: SchemaLeaf[] = [];
  for (const [k, v] of Object.entries(schema)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && 'doc' in v) out.push({ key, ...(v as Omit<SchemaLeaf, 'key'>) });
    else out.push(...schemaLeaves(v as Record<string, unknown>, key));
  }
  return out;
}
