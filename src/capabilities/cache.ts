/**
 * The probe result on disk (state_dir/capabilities.json), so a restart does not pay for the test encodes again.
 * The key holds everything that can change the answer: the ffmpeg/ffprobe binaries and versions, the devices, the
 * settings that restrict the probe, and the worker version (whose probe logic may differ). Utilization is left out:
 * it changes every second and is re-read on every probe.
 */
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import type { Config } from '../config.js';
import { readValidatedStateFile, type StateFileLog } from '../util/state-file.js';
import { writeJsonDurably } from '../util/durable-file.js';
import type { HostSnapshot } from './host.js';
import type { ProbeReport } from './types.js';

// 2: reports hold toneMappers (a format-1 report would leave every job on the CPU chain until re-probed).
const CACHE_FORMAT = 2;

export function cacheFile(stateDir: string): string {
  return path.join(stateDir, 'capabilities.json');
}

export interface CacheKeyInput {
  ffmpeg: { path: string; version: string };
  ffprobe: { path: string; version: string };
  host: HostSnapshot;
  config: Pick<Config, 'hwaccel' | 'vaapi_device' | 'max_resolution'>;
  workerVersion: string;
}

export function buildCacheKey(input: CacheKeyInput): string {
  const { host } = input;
  return JSON.stringify({
    ffmpeg: input.ffmpeg,
    ffprobe: input.ffprobe,
    platform: host.platform,
    arch: host.arch,
    devices: {
      renderNodes: host.renderNodes,
      videoNodes: host.videoNodes,
      nvidiaNodes: host.nvidiaNodes,
      nvidia: (host.nvidiaSmi ?? []).map((g) => ({ index: g.index, name: g.name, uuid: g.uuid })),
      graphics: host.graphics,
      piModel: host.piModel ?? null,
    },
    hwaccel: input.config.hwaccel,
    vaapi_device: input.config.vaapi_device,
    max_resolution: input.config.max_resolution,
    workerVersion: input.workerVersion,
  });
}

/**
 * The shape checked on read. The report itself is our own output, so only what a reader dereferences is
 * required; a file of another shape is moved aside (src/util/state-file.ts) and the probe runs again.
 */
const CacheDocumentSchema = Type.Object({
  format: Type.Number(),
  key: Type.String(),
  report: Type.Object({
    capabilities: Type.Object({}),
    encoders: Type.Array(Type.Object({ name: Type.String() })),
    hwaccels: Type.Array(Type.Object({ name: Type.String() })),
    probedAt: Type.String(),
  }),
});

interface CacheDocument {
  format: number;
  key: string;
  report: ProbeReport;
}

/** The cached report when its key matches; undefined when absent, unreadable, stale or from another format. */
export async function readCachedReport(
  stateDir: string,
  key: string,
  log: StateFileLog,
): Promise<ProbeReport | undefined> {
  try {
    const doc = await readValidatedStateFile(cacheFile(stateDir), CacheDocumentSchema, log, 'capability cache');
    if (!doc || doc.format !== CACHE_FORMAT || doc.key !== key) return undefined;
    return (doc as unknown as CacheDocument).report;
  } catch {
    return undefined; // unreadable (EACCES, EIO): probing again is the safe answer
  }
}

/** Written to a sibling then renamed: a crash mid-write leaves the old cache or none, never half a file. */
export async function writeCachedReport(stateDir: string, key: string, report: ProbeReport): Promise<void> {
  const doc: CacheDocument = { format: CACHE_FORMAT, key, report: { ...report, fromCache: false } };
  // The shared durable writer: a unique temp name (run-job may write the cache while the service does), no temp
  // file left behind on a full disk, and the folder synced after the rename.
  await writeJsonDurably(cacheFile(stateDir), doc);
}
