/**
 * The load of the host's *other* programs while a job runs: host CPU and RAM minus the worker's own process tree
 * (this Node process, and the job's ffmpeg with its children), and on NVIDIA the GPU use and encoder sessions of
 * other processes. The pause controller compares it with the thresholds (pause-controller.ts).
 *
 * Linux: the ffmpeg tree's CPU from /proc/<pid>/stat (utime+stime, in USER_HZ = 100 ticks per second), its RSS from
 * /proc/<pid>/status, its children from /proc/<pid>/task/<tid>/children (no scan of all of /proc: this runs every
 * second while a job runs); this process from process.cpuUsage() and process.memoryUsage.rss(); the host from
 * os.cpus() and os.freemem() (MemAvailable). A child that exits between two samples takes its last CPU with it (a
 * short ffprobe: a small spike that pause_after's hysteresis absorbs).
 * Elsewhere (Windows, macOS) a process's CPU time cannot be read without a child process or a native add-on, so the
 * CPU criterion is off there (the low priority class already yields the CPU to the owner) and RAM subtracts this
 * process only. Sampling is only done while a job runs.
 */
import os from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { totals as cpuTotals } from '../util/cpu-load.js';

export interface OwnerLoad {
  /** Other programs' CPU, percent of all cores; undefined where it cannot be told apart (not Linux, first sample). */
  cpuPercent?: number;
  /** Other programs' RAM, percent of the total. */
  ramPercent: number;
}

export interface OwnerThresholds {
  cpu: number;
  ram: number;
}

/** Why the owner's load is over the thresholds, in words, or undefined when it is not. */
export function overThresholds(load: OwnerLoad, t: OwnerThresholds): string | undefined {
  if (load.cpuPercent !== undefined && load.cpuPercent > t.cpu)
    return `other programs use ${Math.round(load.cpuPercent)}% of the CPU (busy_cpu_percent ${t.cpu})`;
  if (load.ramPercent > t.ram)
    return `other programs use ${Math.round(load.ramPercent)}% of the RAM (busy_ram_percent ${t.ram})`;
  return undefined;
}

interface ProcStat {
  cpuMs: number;
  start: string;
}

function readProcStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
    return { cpuMs: (Number(f[11]) + Number(f[12])) * 10, start: f[19]! };
  } catch {
    return undefined;
  }
}

function readRssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The pid and its descendants, from the per-thread children lists (Linux with CONFIG_PROC_CHILDREN). */
export function linuxProcessTree(root: number): number[] {
  const out = [root];
  for (let i = 0; i < out.length && out.length < 256; i++) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        for (const c of readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').split(' ')) {
          const pid = Number(c);
          if (c.trim() && Number.isInteger(pid) && !out.includes(pid)) out.push(pid);
        }
      } catch {
        // no children file (older kernel) or the thread ended
      }
    }
  }
  return out;
}

export interface OwnerLoadReaderDeps {
  platform?: NodeJS.Platform;
  cpus?: () => readonly Pick<os.CpuInfo, 'times'>[];
  totalmem?: () => number;
  freemem?: () => number;
  /** This process's CPU time in ms and RSS in bytes. */
  self?: () => { cpuMs: number; rss: number };
  /** The job's ffmpeg tree: pids (root first), CPU ms since start of each, their RSS (Linux). */
  tree?: (root: number) => { pid: number; start: string; cpuMs: number; rss: number }[];
}

export type OwnerLoadReader = (ffmpegPid: number | undefined) => OwnerLoad;

const defaultSelf = () => {
  const u = process.cpuUsage();
  return { cpuMs: (u.user + u.system) / 1000, rss: process.memoryUsage.rss() };
};

const defaultTree = (root: number) =>
  linuxProcessTree(root).flatMap((pid) => {
    const s = readProcStat(pid);
    return s ? [{ pid, start: s.start, cpuMs: s.cpuMs, rss: readRssBytes(pid) }] : [];
  });

/**
 * A reader of the other programs' load over the window since its previous call. The first call has no window:
 * its CPU is undefined.
 */
export function createOwnerLoadReader(deps: OwnerLoadReaderDeps = {}): OwnerLoadReader {
  const linux = (deps.platform ?? process.platform) === 'linux';
  const cpus = deps.cpus ?? os.cpus;
  const totalmem = deps.totalmem ?? os.totalmem;
  const freemem = deps.freemem ?? os.freemem;
  const self = deps.self ?? defaultSelf;
  const tree = deps.tree ?? defaultTree;
  let prev: { host: { busy: number; all: number }; self: number; procs: Map<string, number> } | undefined;

  return (ffmpegPid) => {
    const me = self();
    const procs = linux && ffmpegPid !== undefined ? tree(ffmpegPid) : [];
    const total = totalmem();
    const ownRss = me.rss + procs.reduce((sum, p) => sum + p.rss, 0);
    const usedByOthers = total - freemem() - ownRss;
    const ramPercent = total > 0 ? clamp((usedByOthers / total) * 100) : 0;
    if (!linux) return { ramPercent };

    const host = cpuTotals(cpus());
    // Keyed by pid and start time: a reused pid is a new process.
    const now = new Map(procs.map((p) => [`${p.pid}:${p.start}`, p.cpuMs]));
    let cpuPercent: number | undefined;
    if (prev) {
      const all = host.all - prev.host.all;
      let own = me.cpuMs - prev.self;
      // A process new since the last sample started inside the window: all of its CPU time is in it.
      for (const [key, ms] of now) own += ms - (prev.procs.get(key) ?? 0);
      const othersBusy = host.busy - prev.host.busy - own;
      cpuPercent = all > 0 ? clamp((othersBusy / all) * 100) : undefined;
    }
    prev = { host, self: me.cpuMs, procs: now };
    return { cpuPercent, ramPercent };
  };
}

function clamp(n: number): number {
  return Number.isFinite(n) ? Math.min(100, Math.max(0, Math.round(n * 10) / 10)) : 0;
}
