/**
 * Commit throughput (bench/run.mjs part "commit"): the worker's commitOutputs against `cp -r` between the same
 * folders, plus what bounds any durable copy on this disk, and the other durable strategies that were tried.
 *
 * The tree looks like a real job output: the bench ladder (1080p 5M, 720p 2500k, 480p 1M, each with 128k AAC)
 * as MPEG-TS segments of the job default length (6 s), sized from those bitrates with +-20% spread, plus the
 * media playlists and the master, for `seconds` of content (bench default 300 s: ~330 MB in 150 segments).
 *
 * Every run starts from the same state: an empty destination folder, nothing dirty in the page cache (sync), the
 * source tree warm in the cache (read just before); the variants alternate in order, and the median is kept.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const LADDER = [
  ['1080p', 5_000_000],
  ['720p', 2_500_000],
  ['480p', 1_000_000],
];
const AUDIO_BPS = 128_000;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function makeTree(root, seconds, SEGMENT_SEC) {
  await rm(root, { recursive: true, force: true });
  const folders = [];
  let bytes = 0;
  const segments = Math.ceil(seconds / SEGMENT_SEC);
  for (const [name, bps] of LADDER) {
    const dir = path.join(root, name);
    await mkdir(dir, { recursive: true });
    const files = [];
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${SEGMENT_SEC}`];
    for (let i = 0; i < segments; i++) {
      const size = Math.round((((bps + AUDIO_BPS) * SEGMENT_SEC) / 8) * (0.8 + 0.4 * Math.random()));
      await writeFile(path.join(dir, `seg_${i}.ts`), randomBytes(size));
      bytes += size;
      files.push(`seg_${i}.ts`);
      lines.push(`#EXTINF:${SEGMENT_SEC}.000,`, `seg_${i}.ts`);
    }
    lines.push('#EXT-X-ENDLIST', '');
    await writeFile(path.join(dir, 'index.m3u8'), lines.join('\n'));
    files.push('index.m3u8');
    folders.push({ name, dir, files });
  }
  const master = ['#EXTM3U', ...LADDER.flatMap(([n, b]) => [`#EXT-X-STREAM-INF:BANDWIDTH=${b}`, `${n}/index.m3u8`])];
  await writeFile(path.join(root, 'index.m3u8'), master.join('\n') + '\n');
  return { folders, bytes, files: folders.reduce((s, f) => s + f.files.length, 0) + 1 };
}

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'ignore' });

async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  })); // prettier-ignore
}

async function datasync(file) {
  const fh = await open(file, 'r+');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/**
 * @param {{ commitOutputs: Function, out: string, rounds: number, concurrency: number, seconds: number,
 *           segmentSec: number, log: (m: string) => void }} o
 */
export async function runCommitBench(o) {
  const tree = path.join(o.out, 'commit-src');
  const dest = path.join(o.out, 'commit-nas');
  // The commit records its intent here (removed again when it succeeds).
  const stateDir = path.join(o.out, 'commit-state');
  const t = await makeTree(tree, o.seconds, o.segmentSec);
  const spec = {
    jobId: 'bench-commit',
    folders: t.folders.map((f) => ({ destPath: `processed/movie/${f.name}`, sourceDir: f.dir, files: f.files })),
    master: { dirPath: 'processed/movie', name: 'index.m3u8', sourceFile: path.join(tree, 'index.m3u8') },
  };
  const movie = path.join(dest, 'processed', 'movie');
  const pairs = [
    ...t.folders.flatMap((f) => f.files.map((n) => ({ from: path.join(f.dir, n), to: path.join(movie, f.name, n) }))),
    { from: spec.master.sourceFile, to: path.join(movie, 'index.m3u8') },
  ];
  const mkdirs = async () => {
    for (const f of t.folders) await mkdir(path.join(movie, f.name), { recursive: true });
  };
  const fresh = async () => {
    await rm(dest, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
    await mkdir(path.join(dest, 'processed'), { recursive: true });
    spawnSync(
      'cat',
      pairs.map((p) => p.from),
      { stdio: 'ignore' },
    );
    run('sync', []);
  };
  const timed = async (fn) => {
    await fresh();
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };
  const linux = process.platform === 'linux';
  const flushes = [];
  const copyFlushes = [];
  // name -> function returning its time in ms.
  const variants = {
    cp: () => timed(() => run('cp', ['-r', tree, movie])),
    // Staging and NAS folders share this filesystem: the commit hard-links (as `mv` would), then flushes.
    commit: () =>
      timed(async () => {
        const r = await o.commitOutputs(spec, { nasRoot: dest, stateDir, concurrency: o.concurrency });
        flushes.push(r.flushMs);
      }),
    // The copy path, taken when staging and the NAS are on different filesystems (the usual network NAS).
    commitCopy: () =>
      timed(async () => {
        const r = await o.commitOutputs(spec, {
          nasRoot: dest,
          stateDir,
          concurrency: o.concurrency,
          allowHardLinks: false,
        });
        copyFlushes.push(r.flushMs);
      }),
    cpSync: () =>
      timed(() => {
        run('cp', ['-r', tree, movie]);
        run('sync', linux ? ['-f', dest] : []);
      }),
    // Other durable strategies, without the commit's rename/rollback steps (they cost ~1 ms here).
    perFileFlush: () =>
      timed(async () => {
        await mkdirs();
        await pool(pairs, 16, async (p) => {
          await copyFile(p.from, p.to);
          await datasync(p.to);
        });
      }),
    // The same copy and flush as the commit, but with O_EXCL: copyFile then skips its ftruncate(0), so ext4/XFS do
    // not start writing each file back when it is closed, the copies run at page-cache speed, and all the
    // write-back waits for the flush at the end.
    exclThenFlush: () =>
      timed(async () => {
        await mkdirs();
        await pool(pairs, o.concurrency, (p) => copyFile(p.from, p.to, constants.COPYFILE_EXCL));
        await pool(pairs, 8, (p) => datasync(p.to));
      }),
    ...(linux
      ? {
          // Not a copy: the disk alone, writing as many bytes straight from memory (O_DIRECT, 4 MiB blocks).
          disk: () =>
            timed(() =>
              run('dd', [
                'if=/dev/zero',
                `of=${path.join(dest, 'dd.bin')}`,
                'bs=4M',
                `count=${Math.ceil(t.bytes / 2 ** 22)}`,
                'oflag=direct',
              ]),
            ),
          syncfs: () =>
            timed(async () => {
              await mkdirs();
              await pool(pairs, o.concurrency, (p) => copyFile(p.from, p.to));
              run('sync', ['-f', movie]);
            }),
        }
      : {}),
  };
  const times = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let round = 0; round < o.rounds; round++) {
    const names = Object.keys(variants);
    // Rotate the order each round so no variant always runs right after the same neighbour.
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) times[name].push(await variants[name]());
    o.log(
      `  commit round ${round + 1}/${o.rounds}: ${order.map((n) => `${n} ${Math.round(times[n].at(-1))}`).join(', ')} ms`,
    );
  }
  await rm(dest, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
  return {
    bytes: t.bytes,
    files: t.files,
    segments: Math.ceil(o.seconds / o.segmentSec),
    ms: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])),
    commitFlushMs: median(flushes),
    commitCopyFlushMs: median(copyFlushes),
    all: times,
  };
}
