/**
 * The tone-mapping paths a job may use come from the probe report: verified on a real device only (a CPU Vulkan
 * driver is left out), the CPU chain alone on a software-only retry, the old assumption without probe data.
 */
import { describe, expect, it } from 'vitest';
import type { ToneMapperCheck } from '../../../src/capabilities/types.js';
import { loadConfig } from '../../../src/config.js';
import { buildPlanOptions } from '../../../src/job/plan-choice.js';
import { makeProbeReport } from '../../helpers/probe-report.js';

const config = loadConfig({
  cwd: '/tmp',
  args: [],
  env: {
    WORKER_ORCHESTRATOR_URL: 'http://127.0.0.1:9',
    WORKER_ID: 'unit',
    WORKER_NAS_MOUNT_PATH: '/tmp/nas',
    WORKER_TEMP_DIR: '/tmp/tmp',
    WORKER_STATE_DIR: '/tmp/state',
    WORKER_LOG_LEVEL: 'silent',
  },
});

const check = (name: ToneMapperCheck['name'], ok: boolean, cpuDevice = false): ToneMapperCheck => ({
  name,
  listed: true,
  ok,
  durationMs: 1,
  ...(cpuDevice ? { cpuDevice } : {}),
});

describe('buildPlanOptions: tone mappers', () => {
  const report = {
    ...makeProbeReport({ encoders: ['libx264', 'h264_nvenc', 'aac'] }),
    toneMappers: [check('cpu', true), check('libplacebo', true), check('opencl', false), check('vaapi', true, true)],
  };

  it('passes the verified paths, never one that ran on a CPU driver', () => {
    expect(buildPlanOptions(config, report, '/tmp/s').toneMappers).toEqual(['cpu', 'libplacebo']);
  });

  it('a software-only retry keeps the CPU chain only; a report without tone mappers leaves the default', () => {
    expect(buildPlanOptions(config, report, '/tmp/s', true).toneMappers).toEqual(['cpu']);
    const old = makeProbeReport({ encoders: ['libx264', 'aac'] });
    delete old.toneMappers;
    expect(buildPlanOptions(config, old, '/tmp/s')).not.toHaveProperty('toneMappers');
    expect(buildPlanOptions(config, undefined, '/tmp/s')).not.toHaveProperty('toneMappers');
  });
});
