import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { OPERATOR_ROUTES } from '../../../src/dev-orchestrator/operator-schemas.js';
import { buildOpenApiDocument, OPERATOR_TAG, PROTOCOL_TAG } from '../../../src/docs/openapi.js';
import { PROTOCOL_ROUTES } from '../../../src/protocol/schemas.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const doc = buildOpenApiDocument() as any;

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => collectRefs(n, out));
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  return out;
}

/** Validators for components.schemas, with $refs resolved inside the document. */
function validators() {
  const ajv = new Ajv2020({ strict: false });
  ajv.addSchema({ $id: 'doc.json', components: doc.components });
  return (name: string) => {
    const v = ajv.getSchema(`doc.json#/components/schemas/${name}`);
    if (!v) throw new Error(`no schema ${name}`);
    return (data: unknown) => (v(data) ? true : v.errors);
  };
}

describe('OpenAPI document', () => {
  it('has the OpenAPI 3.1 shape', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(JSON.stringify(doc)).not.toContain('"$id"');
  });

  it('has every protocol route with its request schema, and the operator routes under their own tag', () => {
    for (const r of PROTOCOL_ROUTES) {
      const op = doc.paths[r.path]?.[r.method];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op.tags).toEqual([PROTOCOL_TAG]);
      expect(op.requestBody.content['application/json'].schema.$ref).toBe(`#/components/schemas/${r.body.$id}`);
      expect(op.responses['200'].content['application/json'].schema.$ref).toBe(
        `#/components/schemas/${r.response.$id}`,
      );
      expect(op.parameters.some((p: any) => p.name === 'X-Worker-ID' && p.in === 'header')).toBe(true);
    }
    for (const r of OPERATOR_ROUTES) expect(doc.paths[r.path]?.[r.method]?.tags).toEqual([OPERATOR_TAG]);
    const ids = Object.values(doc.paths).flatMap((ops: any) => Object.values(ops).map((o: any) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('documents the answers that drive the worker: 404 on sync, 404/409/410 on progress and finalize', () => {
    expect(doc.paths['/api/v1/workers/sync'].post.responses['404'].description).toContain('registers again');
    for (const path of ['/api/v1/jobs/{job_id}', '/api/v1/jobs/{job_id}/finalize']) {
      const method = path.endsWith('finalize') ? 'post' : 'patch';
      expect(Object.keys(doc.paths[path][method].responses)).toEqual(expect.arrayContaining(['404', '409', '410']));
    }
    expect(doc.components.schemas.SyncResponse.properties.cancel_current_job).toBeDefined();
  });

  it('resolves every $ref to a component', () => {
    const names = new Set(Object.keys(doc.components.schemas));
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const r of refs) expect(names.has(r.replace('#/components/schemas/', '')), r).toBe(true);
  });

  it('validates the payloads of the protocol description, and rejects a wrong one', () => {
    const check = validators();
    const job = {
      job_id: 'job-1767791635',
      movie_id: 'movie-456',
      input: { source_url: 'movies/sample_3840x2160.mkv', format: 'mkv' },
      outputs: [{ resolution: '720p', bitrate: '2500k', codec: 'h264_nvenc', dest_path: 'processed/sample/720p/' }],
      hls_settings: { master_playlist_name: 'index.m3u8', segment_time: 6 },
    };
    const capabilities = {
      supported_codecs: ['h264_nvenc', 'hevc_nvenc', 'libx264'],
      has_gpu: true,
      gpu_type: 'nvidia',
      max_resolution: '4k',
    };
    expect(check('RegisterRequest')({ worker_id: 'desktop-gaming-pc', capabilities })).toBe(true);
    const sync = {
      worker_id: 'desktop-gaming-pc',
      status: 'IDLE',
      hardware_stats: { cpu_percent: 15.3, ram_percent: 42.1, is_busy: false },
      current_job_id: '',
    };
    expect(check('SyncRequest')(sync)).toBe(true);
    expect(check('SyncResponse')({ ack: true, assigned_job: job })).toBe(true);
    expect(check('SyncResponse')({ ack: true, assigned_job: { job_id: 'x' } })).not.toBe(true);
    expect(
      check('ProgressRequest')({
        worker_id: 'w',
        status: 'PROCESSING',
        progress: 45.8,
        current_fps: 87.3,
        eta_sec: 120,
      }),
    ).toBe(true);
    expect(
      check('FinalizeRequest')({
        worker_id: 'w',
        status: 'COMPLETED',
        manifest_url: '/processed/sample/720p/index.m3u8',
        metrics: { total_time_ms: 245680 },
      }),
    ).toBe(true);
    expect(
      check('FinalizeRequest')({
        worker_id: 'w',
        status: 'FAILED',
        error_msg: 'input file does not exist',
        metrics: { total_time_ms: 1250 },
      }),
    ).toBe(true);
    expect(check('RegisterRequest')({ worker_id: 'w', capabilities: { ...capabilities, has_gpu: 'yes' } })).not.toBe(
      true,
    );
    expect(check('EnqueueJobRequest')({ ...job, job_id: undefined })).toBe(true);
  });

  it('describes the audio, subtitle and output_base fields of a job (issue 11)', () => {
    const check = validators();
    const job = {
      job_id: 'job-1',
      input: { source_url: 'movies/a.mkv' },
      output_base: 'processed/a',
      outputs: [{ resolution: '720p', bitrate: '2500k', codec: 'libx264', dest_path: '720p', audio_codec: 'aac' }],
      audio_config: { codec: 'aac', bitrate: '128k', surround: true, surround_codec: 'eac3', languages: ['fr'] },
      subtitles: { include: true, sidecars: false },
    };
    expect(check('Job')(job)).toBe(true);
    expect(check('EnqueueJobRequest')({ ...job, job_id: undefined })).toBe(true);
    expect(check('Job')({ ...job, audio_config: { surround: 'yes' } })).not.toBe(true);
    expect(check('Job')({ ...job, subtitles: { include: 'no' } })).not.toBe(true);
    expect(check('Job')({ ...job, audio_config: { languages: 'fr' } })).not.toBe(true);
    const props = doc.components.schemas.Job.properties;
    for (const field of ['output_base', 'audio_config', 'subtitles'])
      expect(props[field].description, field).toMatch(/\S/);
  });
});
