/** Builders shared by the dev orchestrator unit tests. */
import type { FastifyInstance } from 'fastify';
import type { Capabilities, Job } from '../../../src/protocol/schemas.js';

export function caps(over: Partial<Capabilities> = {}): Capabilities {
  return {
    supported_codecs: ['libx264', 'aac'],
    has_gpu: false,
    gpu_type: 'none',
    max_resolution: '1080p',
    ...over,
  };
}

export function jobBody(over: Partial<Job> = {}): Omit<Job, 'job_id'> & { job_id?: string } {
  return {
    movie_id: 'movie-1',
    input: { source_url: 'movies/a.mkv', format: 'mkv' },
    outputs: [{ resolution: '720p', bitrate: '2500k', codec: 'libx264', dest_path: 'processed/a/720p/' }],
    hls_settings: { master_playlist_name: 'index.m3u8', segment_time: 6 },
    ...over,
  };
}

export function idle(workerId: string, over: Record<string, unknown> = {}) {
  return {
    worker_id: workerId,
    status: 'IDLE',
    hardware_stats: { cpu_percent: 5, ram_percent: 30, is_busy: false },
    current_job_id: '',
    ...over,
  };
}

export function busy(workerId: string, jobId: string) {
  return idle(workerId, {
    status: 'BUSY',
    hardware_stats: { cpu_percent: 95, ram_percent: 30, is_busy: true },
    current_job_id: jobId,
  });
}

/** Small wrapper over app.inject that returns status + parsed JSON. */
export function client(app: FastifyInstance, headers: Record<string, string> = {}) {
  async function call(
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    payload?: unknown,
    extra: Record<string, string> = {},
  ) {
    const res = await app.inject({
      method,
      url,
      headers: { ...headers, ...extra },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {} };
  }
  return {
    call,
    register: (id: string, c: Capabilities = caps()) =>
      call('POST', '/api/v1/workers/register', { worker_id: id, capabilities: c }),
    sync: (body: unknown) => call('POST', '/api/v1/workers/sync', body),
    enqueue: (body: unknown) => call('POST', '/api/v1/jobs', body),
    progress: (jobId: string, workerId: string, progress = 10, extra: Record<string, string> = {}) =>
      call(
        'PATCH',
        `/api/v1/jobs/${jobId}`,
        { worker_id: workerId, status: 'PROCESSING', progress, current_fps: 30, eta_sec: 12 },
        extra,
      ),
    finalize: (jobId: string, body: Record<string, unknown>) => call('POST', `/api/v1/jobs/${jobId}/finalize`, body),
    job: (jobId: string) => call('GET', `/api/v1/jobs/${jobId}`),
    cancel: (jobId: string) => call('POST', `/api/v1/jobs/${jobId}/cancel`),
  };
}

export const completed = (workerId: string) => ({
  worker_id: workerId,
  status: 'COMPLETED',
  manifest_url: '/processed/a/index.m3u8',
  metrics: { total_time_ms: 1234 },
});
