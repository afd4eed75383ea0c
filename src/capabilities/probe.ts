/**
 * Capability discovery that tells the truth: an encoder is declared only after it has encoded on this host.
 *
 * probe(): toolchain check and host facts (in parallel) -> cache lookup -> `-encoders`/`-hwaccels`/`-decoders` ->
 * test encodes of every listed candidate whose device exists (bounded parallelism) -> sessions of the hardware
 * families that passed -> hwaccel test decodes -> payload -> cache. Beside the encoder checks, `-filters` (and
 * vpp_qsv's options) -> a real run of every tone-mapping path whose filters and device exist (tone-mappers.ts).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { ToolchainError, errorMessage } from '../errors.js';
import type { CommandRunner } from '../exec/runner.js';
import type { Logger } from '../log.js';
import { buildCacheKey, readCachedReport, writeCachedReport } from './cache.js';
import { familySkipReason, listGpus, renderNodesToTest, testDeviceFor } from './devices.js';
import { ENCODER_CANDIDATES, isHardwareFamily } from './encoder-table.js';
import { HWACCEL_CANDIDATES, HWACCEL_FAMILY } from './encoders.js';
import { parseCodecList, parseHwaccels } from './ffmpeg-output.js';
import { parseFilterList, parseFilterOptions } from './filters.js';
import { checkToneMappers, TONE_MAPPER_PATHS } from './tone-mappers.js';
import { createHostReader, type HostSnapshot, type ReadHost } from './host.js';
import { buildCapabilities } from './payload.js';
import {
  checkBatch,
  checkEncoder,
  checkEncoderOnNodes,
  checkHwaccel,
  createSample,
  probeSessions,
  type TestContext,
} from './test-encode.js';
import { mapLimit } from '../util/pool.js';
import { checkToolchain, type Tool } from './toolchain.js';
import type {
  CapabilityProber,
  EncoderCheck,
  EncoderFamily,
  HwaccelCheck,
  ProbeReport,
  ToneMapperCheck,
  ToneMapperPath,
} from './types.js';

export interface ProberDeps {
  config: Pick<
    Config,
    'ffmpeg_path' | 'ffprobe_path' | 'hwaccel' | 'vaapi_device' | 'max_resolution' | 'probe_timeout' | 'state_dir'
  >;
  runner: CommandRunner;
  log: Pick<Logger, 'info' | 'warn' | 'debug'>;
  workerVersion: string;
  /** Host facts; the real host by default. Tests hand in an NVIDIA desktop, an Intel box, a Pi. */
  host?: ReadHost;
  now?: () => Date;
  /** Test encodes run at once. Three keeps a 2-core host busy without starving it. */
  concurrency?: number;
  /** Try Vulkan/OpenCL tone mapping on a host without a GPU (CPU drivers such as lavapipe); tests use it. */
  tryToneMapWithoutGpu?: boolean;
}

/** Tone-mapping paths that run on a family's device: re-checked when that family is re-probed. */
const TONE_PATHS_OF_FAMILY: Partial<Record<EncoderFamily, readonly ToneMapperPath[]>> = {
  vaapi: ['vaapi', 'opencl-vaapi'],
  qsv: ['qsv', 'opencl-qsv'],
  nvidia: ['libplacebo', 'opencl'],
};

interface Checks {
  encoders: EncoderCheck[];
  hwaccels: HwaccelCheck[];
  toneMappers: ToneMapperCheck[];
}

interface Listing {
  encoders: Set<string>;
  hwaccels: Set<string>;
  decoders: Set<string>;
  filters: Set<string>;
  /** vpp_qsv's options (its tonemap option exists from 7.1 on); empty when vpp_qsv is absent. */
  vppQsvOptions: Set<string>;
}

export function createCapabilityProber(deps: ProberDeps): CapabilityProber {
  const { config, runner, log } = deps;
  const readHost = deps.host ?? createHostReader(runner, config.probe_timeout);
  const now = deps.now ?? (() => new Date());
  const limit = deps.concurrency ?? 3;
  let last: { report: ProbeReport; listing: Listing } | undefined;

  const ctxFor = (ffmpeg: Tool): TestContext => ({ runner, ffmpeg: ffmpeg.path, timeoutMs: config.probe_timeout });

  async function listFfmpeg(ffmpeg: Tool): Promise<Listing> {
    const run = (...flags: string[]) =>
      runner(ffmpeg.path, ['-hide_banner', ...flags], { timeoutMs: config.probe_timeout }).then((r) => r.stdout);
    const [enc, hw, dec, filt] = await Promise.all([
      run('-encoders'),
      run('-hwaccels'),
      run('-decoders'),
      run('-filters'),
    ]);
    const filters = parseFilterList(filt);
    // Only where it matters: vpp_qsv's tonemap option decides the QSV tone-mapping path.
    const vppQsvOptions = filters.has('vpp_qsv')
      ? parseFilterOptions(await run('-h', 'filter=vpp_qsv'))
      : new Set<string>();
    return {
      encoders: parseCodecList(enc),
      hwaccels: parseHwaccels(hw),
      decoders: parseCodecList(dec),
      filters,
      vppQsvOptions,
    };
  }

  function toneMapperChecks(
    ffmpeg: Tool,
    host: HostSnapshot,
    listing: Listing,
    paths: readonly ToneMapperPath[] = TONE_MAPPER_PATHS,
  ): Promise<ToneMapperCheck[]> {
    const input = {
      filters: listing.filters,
      vppQsvOptions: listing.vppQsvOptions,
      host,
      config,
      ...(deps.tryToneMapWithoutGpu ? { tryWithoutGpu: true } : {}),
    };
    return checkToneMappers(ctxFor(ffmpeg), input, limit, paths);
  }

  /** Checks every candidate of the given families (all when omitted). */
  async function runChecks(
    ctx: TestContext,
    host: HostSnapshot,
    listing: Listing,
    families?: ReadonlySet<EncoderFamily>,
  ): Promise<{ encoders: EncoderCheck[]; hwaccels: HwaccelCheck[] }> {
    const selected = ENCODER_CANDIDATES.filter((c) => !families || families.has(c.family));
    // Software and audio encoders are first tried together in one process; hardware ones never are (a device
    // error or a hang must not hide the others).
    const batchable = selected.filter((c) => !isHardwareFamily(c.family) && listing.encoders.has(c.name));
    // Started at once, beside the pool: a single process, mostly waiting on process start-up.
    const batch = checkBatch(ctx, batchable);
    const encoderTasks = selected.map((c) => async (): Promise<EncoderCheck | undefined> => {
      const base = { name: c.name, family: c.family, ok: false, durationMs: 0, skipped: true };
      if (!listing.encoders.has(c.name))
        return { ...base, listed: false, reason: 'not compiled into this ffmpeg (absent from ffmpeg -encoders)' };
      const skip = familySkipReason(c.family, host, config);
      if (skip) return { ...base, listed: true, reason: skip };
      if (batchable.includes(c)) return undefined; // decided by the batch below
      const nodes = renderNodesToTest(c.family, host, config.vaapi_device);
      if (nodes) return checkEncoderOnNodes(ctx, c, nodes);
      return checkEncoder(ctx, c, testDeviceFor(c.family, host, config.vaapi_device));
    });
    let sample: ReturnType<typeof createSample> | undefined;
    const sampleOnce = () => (sample ??= createSample(ctx, path.join(config.state_dir, 'temp')));
    const hwaccelTasks = HWACCEL_CANDIDATES.filter((h) => !families || families.has(HWACCEL_FAMILY[h])).map(
      (h) => async (): Promise<HwaccelCheck> => {
        const family = HWACCEL_FAMILY[h];
        const listed = h === 'v4l2m2m' ? listing.decoders.has('h264_v4l2m2m') : listing.hwaccels.has(h);
        const base = { name: h, ok: false, durationMs: 0, skipped: true };
        if (!listed) return { ...base, listed: false, reason: 'not compiled into this ffmpeg' };
        const skip = familySkipReason(family, host, config);
        if (skip) return { ...base, listed: true, reason: skip };
        return checkHwaccel(ctx, h, sampleOnce(), testDeviceFor(family, host, config.vaapi_device));
      },
    );
    const tasks: Array<() => Promise<EncoderCheck | HwaccelCheck | undefined>> = [...encoderTasks, ...hwaccelTasks];
    const results = await mapLimit(tasks, limit, (t) => t());
    const hwaccels = results.slice(encoderTasks.length) as HwaccelCheck[];
    // The sample is made again by every probe: leave state_dir as it was.
    const made = await sample;
    if (made?.path) await rm(made.path, { force: true }).catch(() => undefined);
    // The batch failed: test each on its own, to learn which one failed and why.
    const together = (await batch) ?? (await mapLimit(batchable, limit, (c) => checkEncoder(ctx, c, {})));
    const encoders = selected.map(
      (c, i) => (results[i] as EncoderCheck | undefined) ?? together.find((e) => e.name === c.name)!,
    );

    // Sessions: once per hardware family, with its first passing encoder.
    const firstPerFamily = [
      ...new Set(encoders.filter((e) => e.ok && isHardwareFamily(e.family)).map((e) => e.family)),
    ].map((f) => encoders.find((e) => e.family === f && e.ok)!);
    await mapLimit(firstPerFamily, limit, async (check) => {
      const candidate = ENCODER_CANDIDATES.find((c) => c.name === check.name)!;
      const started = performance.now();
      // On the node it passed on (the first of several may be another vendor's).
      const device = check.device
        ? { renderNode: check.device }
        : testDeviceFor(check.family, host, config.vaapi_device);
      check.maxSessions = await probeSessions(ctx, candidate, device);
      check.durationMs += Math.round(performance.now() - started);
    });
    return { encoders, hwaccels };
  }

  function assemble(
    tools: { ffmpeg: Tool; ffprobe: Tool },
    host: HostSnapshot,
    checks: Checks,
    started: number,
  ): ProbeReport {
    const video = checks.encoders.filter((e) => e.ok && e.family !== 'audio');
    if (video.length === 0) {
      const why = checks.encoders
        .filter((e) => e.family === 'software')
        .map((e) => `${e.name}: ${e.reason ?? 'failed'}`)
        .join('; ');
      throw new ToolchainError(
        `ffmpeg at "${tools.ffmpeg.path}" cannot encode any video (${why}): install an ffmpeg built with libx264 or set ffmpeg_path`,
      );
    }
    return {
      capabilities: buildCapabilities({
        encoders: checks.encoders,
        hwaccels: checks.hwaccels,
        host,
        config,
        ffmpegVersion: tools.ffmpeg.version,
        workerVersion: deps.workerVersion,
      }),
      encoders: checks.encoders,
      hwaccels: checks.hwaccels,
      toneMappers: checks.toneMappers,
      gpus: listGpus(host),
      ffmpeg: tools.ffmpeg,
      ffprobe: tools.ffprobe,
      host: {
        os: host.platform,
        arch: host.arch,
        cpuModel: host.cpuModel,
        cpuCores: host.cpuCores,
        ramTotalMb: host.ramTotalMb,
        ...(host.piModel ? { piModel: host.piModel } : {}),
      },
      probedAt: now().toISOString(),
      durationMs: Math.round(performance.now() - started),
      fromCache: false,
    };
  }

  async function save(key: string, report: ProbeReport): Promise<void> {
    try {
      await writeCachedReport(config.state_dir, key, report);
    } catch (err) {
      // The probe result is still right; only the next start pays for it again.
      log.warn({ err: errorMessage(err), state_dir: config.state_dir }, 'cannot write the capability cache');
    }
  }

  async function gather() {
    const [tools, host] = await Promise.all([checkToolchain(runner, config, config.probe_timeout), readHost()]);
    const key = buildCacheKey({ ...tools, host, config, workerVersion: deps.workerVersion });
    return { tools, host, key };
  }

  return {
    async probe(opts = {}) {
      const started = performance.now();
      const { tools, host, key } = await gather();
      if (!opts.refresh) {
        const cached = await readCachedReport(config.state_dir, key, log);
        if (cached) {
          // The test results come from the cache; CPU, RAM and GPU load are read fresh (a RAM upgrade is no
          // reason to re-test encoders, but the payload must still tell the truth about it).
          const fresh = assemble(tools, host, { ...cached, toneMappers: cached.toneMappers ?? [] }, started);
          const report: ProbeReport = { ...fresh, probedAt: cached.probedAt, fromCache: true };
          log.debug({ durationMs: report.durationMs }, 'capabilities from cache');
          return report;
        }
      }
      const listing = await listFfmpeg(tools.ffmpeg);
      const [encoderChecks, toneMappers] = await Promise.all([
        runChecks(ctxFor(tools.ffmpeg), host, listing),
        toneMapperChecks(tools.ffmpeg, host, listing),
      ]);
      const checks = { ...encoderChecks, toneMappers };
      const report = assemble(tools, host, checks, started);
      last = { report, listing };
      await save(key, report);
      log.info(
        {
          supported_codecs: report.capabilities.supported_codecs,
          gpu_type: report.capabilities.gpu_type,
          durationMs: report.durationMs,
        },
        'capabilities probed',
      );
      return report;
    },

    async reprobeFamily(family) {
      const started = performance.now();
      const { tools, host, key } = await gather();
      // The listing of the same binary does not change; re-list only when this process has not yet.
      const listing =
        last?.report.ffmpeg.version === tools.ffmpeg.version ? last.listing : await listFfmpeg(tools.ffmpeg);
      const previous = last?.report ?? (await readCachedReport(config.state_dir, key, log));
      const merge = <T extends { name: string }>(old: readonly T[], updated: T[]): T[] =>
        old.map((o) => updated.find((u) => u.name === o.name) ?? o);
      let checks: Checks;
      if (previous?.toneMappers) {
        const paths = TONE_PATHS_OF_FAMILY[family] ?? [];
        const [fresh, toneMappers] = await Promise.all([
          runChecks(ctxFor(tools.ffmpeg), host, listing, new Set([family])),
          toneMapperChecks(tools.ffmpeg, host, listing, paths),
        ]);
        checks = {
          encoders: merge(previous.encoders, fresh.encoders),
          hwaccels: merge(previous.hwaccels, fresh.hwaccels),
          toneMappers: merge(previous.toneMappers, toneMappers),
        };
      } else {
        // Nothing to update: a full probe is the re-probe.
        const [all, toneMappers] = await Promise.all([
          runChecks(ctxFor(tools.ffmpeg), host, listing),
          toneMapperChecks(tools.ffmpeg, host, listing),
        ]);
        checks = { ...all, toneMappers };
      }
      const report = assemble(tools, host, checks, started);
      last = { report, listing };
      await save(key, report);
      log.info({ family, supported_codecs: report.capabilities.supported_codecs }, 'capabilities re-probed');
      return report;
    },
  };
}
