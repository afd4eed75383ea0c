/**
 * The Config type is derived from the schema (config-schema.ts). This pins its shape: a key added to, removed from
 * or retyped in the schema fails the type check (npm run lint) here, so every consumer's view is a decision.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { Config } from '../../../src/config.js';

interface ExpectedConfig {
  orchestrator_url: string;
  worker_id: string;
  auth_token: string;
  ca_file: string;
  request_timeout: number;
  retry_max_delay: number;
  nas_mount_path: string;
  temp_dir: string;
  state_dir: string;
  resume_keep: number;
  resume_disk_budget: number;
  sync_interval: number;
  progress_interval: number;
  stall_timeout: number;
  shutdown_timeout: number;
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  http: { host: string; port: number };
  ffmpeg_path: string;
  ffprobe_path: string;
  hwaccel: 'auto' | 'none' | 'nvenc' | 'qsv' | 'vaapi' | 'v4l2m2m';
  vaapi_device: string;
  max_resolution: 'auto' | '2160p' | '1440p' | '1080p' | '720p' | '480p';
  probe_timeout: number;
  allow_software_fallback: boolean;
  x264_preset: 'auto' | 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium' | 'slow';
  hls_codec_limits: 'strict' | 'current' | 'off';
  commit_concurrency: number;
  work_hours: string;
  work_hours_running_job: 'finish' | 'pause';
  busy_cpu_percent: number;
  busy_ram_percent: number;
  process_priority: 'low' | 'normal' | 'idle';
  pause_on_owner_load: boolean;
  pause_after: number;
  resume_after: number;
}

describe('Config', () => {
  it('has exactly the shape the schema declares', () => {
    expectTypeOf<Config>().toEqualTypeOf<ExpectedConfig>();
  });
});
