/**
 * Audio renditions (bench/run.mjs part "languages", issue 11): what every language costs, and what encoding each
 * audio track once saves.
 *
 * Two films, generated once (cached in bench/out): a 1280x720 25 fps H.264 picture with three audio tracks
 * (English 5.1 AC-3 default, French stereo AAC, English commentary stereo AAC: the layout of
 * test/helpers/multilang-source.ts), and the same file with only its default track (video and that track copied,
 * not re-encoded, so both films carry identical bits). Every track is a tone plus noise, so the AAC encoder does
 * real work rather than coding a pure sine.
 *
 * Measured, all in one run, interleaved (each pair back to back, the first of each pair alternating by round):
 *  - job "three": the worker end to end on the three-track film: 3 video rungs + 3 audio renditions;
 *  - job "one": the worker on the one-track film: 3 video rungs + 1 audio rendition (the default track, the one
 *    the worker kept before issue 11). This is the fairest "video + one audio": the same track, the same chain, so the pair
 *    differs only by the two extra tracks (their decode, downmix, encode, segments and playlists);
 *  - bare "new": job three's own ffmpeg argv (checked identical), and bare "today": the argv of the worker before
 *    issue 11 rebuilt from it (todaysArgv below: the default track mapped into every rung, `-map [vN] -map 0:a:0`,
 *    `-c:a:N aac -ac:a:N 2`, var_stream_map v:N,a:N), so the ladder with three renditions also meets what the worker
 *    ran until now on the same film;
 *  - the audio half alone of those argvs (stripVideo below: same input, same audio chains and muxer, no picture),
 *    to time the audio encodes without the video's noise: today's layout with 3 rungs (3 AAC encodes of the
 *    default track) against 1 rung (1 encode) is the CPU that encoding a track once saves; the new argv's audio
 *    (3 tracks once each, 1 track once) is what the renditions cost now.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const LADDER = [
  ['720p', '2500k'],
  ['480p', '1M'],
  ['360p', '600k'],
];

/** Source tracks: [language, title, channels, tone Hz]. Track 0 is the default one. */
const TRACKS = [
  ['eng', '', 6, 440],
  ['fre', '', 2, 660],
  ['eng', "Director's commentary", 2, 880],
];

/** One channel's expression: the tone where it belongs (centre of a 5.1, both sides of a stereo) plus noise. */
function channelExpr(hz, channels, c, seed) {
  const noise = `0.08*(random(${seed})-0.5)`;
  const toned = channels === 6 ? c === 2 : true;
  return toned ? `0.4*sin(${hz}*2*PI*t)+${noise}` : channels === 6 && c === 3 ? '0' : noise;
}

/** Makes (once) the three-track film and the one-track film in `dir`; returns their paths. */
export async function makeLanguageFilms({ run, ffmpeg, dir, seconds, log }) {
  const three = path.join(dir, `lang-720p-3audio-${seconds}s.mkv`);
  const one = path.join(dir, `lang-720p-1audio-${seconds}s.mkv`);
  if (!existsSync(three)) {
    log(`generating a ${seconds} s 1280x720 film with three audio tracks (once; cached in bench/out)`);
    const audioInputs = TRACKS.flatMap(([, , ch, hz], i) => {
      const exprs = Array.from({ length: ch }, (_, c) => channelExpr(hz, ch, c, i * 8 + c)).join('|');
      return ['-f', 'lavfi', '-i', `aevalsrc=${exprs}:c=${ch === 6 ? '5.1' : 'stereo'}:s=48000:d=${seconds}`];
    });
    const meta = TRACKS.flatMap(([lang, title], i) => [
      `-metadata:s:a:${i}`,
      `language=${lang}`,
      ...(title ? [`-metadata:s:a:${i}`, `title=${title}`] : []),
    ]);
    await run(ffmpeg, [
      '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
      '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=25:duration=${seconds}`,
      ...audioInputs,
      '-map', '0:v', ...TRACKS.flatMap((_, i) => ['-map', `${i + 1}:a`]),
      '-c:v', 'libx264', '-preset', 'veryfast', '-g', '50', '-b:v', '4M',
      '-c:a:0', 'ac3', '-b:a:0', '448k', '-c:a:1', 'aac', '-b:a:1', '160k', '-c:a:2', 'aac', '-b:a:2', '128k',
      ...meta,
      '-disposition:a:0', 'default', '-disposition:a:1', '0', '-disposition:a:2', 'comment',
      three,
    ]); // prettier-ignore
  }
  if (!existsSync(one)) {
    await run(ffmpeg, [
      '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
      '-i', three, '-map', '0:v', '-map', '0:a:0', '-c', 'copy', '-disposition:a:0', 'default', one,
    ]); // prettier-ignore
  }
  return { three, one };
}

/** The ladder job of the bench (720p/480p/360p libx264, 2 s segments like the other parts). */
export function languagesJob(nas, src, dest) {
  return {
    job_id: `bench-${dest}`,
    input: { source_url: path.relative(nas, src).split(path.sep).join('/') },
    outputs: LADDER.map(([resolution, bitrate]) => ({
      resolution,
      bitrate,
      codec: 'libx264',
      dest_path: `processed/${dest}/${resolution}`,
    })),
    hls_settings: { segment_time: 2 },
  };
}

/** Index of `flag` in args, which must occur exactly once. */
function onlyIndex(args, flag) {
  const at = args.indexOf(flag);
  if (at < 0 || args.indexOf(flag, at + 1) >= 0) throw new Error(`bench: expected one ${flag} in the argv`);
  return at;
}

/**
 * The argv of the worker before issue 11, rebuilt from today's argv for the same plan: the picture graph alone
 * (no audio branches), the source's default track mapped after each rung and encoded once per rung as AAC stereo
 * (`-map [vN] -map 0:a:0`, `-c:a:N aac -ac:a:N 2 -b:a:N <rate>`), variants that mux picture and sound
 * (var_stream_map "v:N,a:N,name:..."), the master written by ffmpeg. Everything else (global flags, input, video
 * encoders, muxer settings) is the worker's own, so the two commands differ only in how the audio is laid out.
 */
export function todaysArgv(plan, { buildFfmpegArgs, buildFilterGraph }) {
  const args = buildFfmpegArgs(plan);
  const audioRate = plan.audioGroups[0]?.bitrate ?? 128_000;
  const out = [];
  let droppedMaps = 0;
  for (let k = 0; k < args.length; k++) {
    const [a, b] = [args[k], args[k + 1]];
    if (a === '-filter_complex') out.push(a, buildFilterGraph(plan));
    else if (a === '-map' && /^\[a\d+\]$/.test(b)) droppedMaps++;
    else if (/^-(c|b):a:\d+$/.test(a)) {
      /* the new per-rendition audio options: replaced below */
    } else if (a === '-map' && /^\[v\d+\]$/.test(b)) out.push(a, b, '-map', '0:a:0');
    else if (a === '-var_stream_map')
      out.push('-master_pl_name', 'master.m3u8', a, plan.renditions.map((r, i) => `v:${i},a:${i},name:${r.variantDir}`).join(' ')); // prettier-ignore
    else {
      out.push(a);
      continue;
    }
    k++;
  }
  if (droppedMaps !== plan.audioGroups.flatMap((g) => g.renditions).length)
    throw new Error('bench: the argv does not map each audio rendition once');
  const perRung = plan.renditions.flatMap((_, i) => [`-c:a:${i}`, 'aac', `-ac:a:${i}`, '2', `-b:a:${i}`, `${audioRate / 1000}k`]); // prettier-ignore
  out.splice(onlyIndex(out, '-sn'), 0, ...perRung);
  return out;
}

/**
 * The audio half of an argv: the same input, audio filter branches, audio encoders and hls muxer, without the
 * picture (no video branches, maps or :v: options, no v:N in var_stream_map).
 */
export function stripVideo(args) {
  const out = [];
  for (let k = 0; k < args.length; k++) {
    const [a, b] = [args[k], args[k + 1]];
    if (a === '-filter_complex') {
      const audio = b.split(';').filter((branch) => /\[a\d+\]$/.test(branch));
      if (audio.length) out.push(a, audio.join(';'));
    } else if (a === '-map' && /^\[v\d+\]$/.test(b)) {
      /* the picture */
    } else if (/^-[a-z_0-9]+:v:\d+$/.test(a)) {
      /* a video encoder option */
    } else if (a === '-var_stream_map') {
      const entries = b
        .split(' ')
        .map((e) => e.replace(/^v:\d+,/, ''))
        .filter((e) => e.startsWith('a:'));
      out.push(a, entries.join(' '));
    } else {
      out.push(a);
      continue;
    }
    k++;
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * @param {{ run: Function, measure: Function, runJob: Function, planFor: Function, buildFfmpegArgs: Function,
 *   buildFilterGraph: Function, probeStreams: (file: string) => Promise<string[]>, jobArgs: Map<string, string[]>,
 *   jobStagingDir: Function, tempDir: string, ffmpeg: string, nas: string, out: string, seconds: number,
 *   rounds: number, audioRounds: number, log: (m: string) => void, show: Function }} o
 */
export async function runLanguagesBench(o) {
  const films = await makeLanguageFilms({ ...o, dir: path.join(o.nas, 'movies') });
  const jobThree = languagesJob(o.nas, films.three, 'lang-three');
  const jobOne = languagesJob(o.nas, films.one, 'lang-one');
  const bareDir = path.join(o.out, 'lang-bare');
  const planThree = await o.planFor(jobThree, bareDir);
  const planOne = await o.planFor(jobOne, bareDir);
  const renditions = (plan) => plan.audioGroups.flatMap((g) => g.renditions).length;
  if (renditions(planThree) !== 3 || renditions(planOne) !== 1)
    throw new Error(
      `bench: expected 3 and 1 audio renditions, got ${renditions(planThree)} and ${renditions(planOne)}`,
    );
  const argv = {
    newThree: o.buildFfmpegArgs(planThree),
    today: todaysArgv(planThree, o),
  };
  const bare = async (args) => {
    await rm(bareDir, { recursive: true, force: true });
    await mkdir(bareDir, { recursive: true });
    return o.measure(() => o.run(o.ffmpeg, args));
  };

  // Pairs back to back, the first of each pair alternating by round: the per-round ratios compare runs made under
  // the same load on this shared machine; their median is the figure, the ratio of the medians is shown beside it.
  const runs = { three: [], one: [], newThree: [], today: [] };
  const loads = [];
  const pairs = [
    ['three', 'worker job, three-track film (3 audio renditions)', () => o.measure(() => o.runJob(jobThree))],
    ['one', 'worker job, one-track film (1 audio rendition)', () => o.measure(() => o.runJob(jobOne))],
    ['newThree', "bare ffmpeg, the job's argv (3 renditions)", () => bare(argv.newThree)],
    ['today', 'bare ffmpeg, the argv before issue 11 (default track muxed per rung)', () => bare(argv.today)],
  ];
  // Checked once, right after the first run of each (before the next run clears its output): the job ran the argv
  // that the bare run times (staging folder aside), and today's argv really muxes picture and sound in each rung.
  const firstRunChecks = {
    three: async () => {
      const staging = o.jobStagingDir(o.tempDir, jobThree.job_id);
      const seen = (o.jobArgs.get(jobThree.job_id) ?? []).map((a) => a.split(staging).join(bareDir));
      if (JSON.stringify(seen) !== JSON.stringify(argv.newThree))
        throw new Error(`bench: the bare argv differs from the job's:\n${seen.join(' ')}`);
    },
    today: async () => {
      for (const r of planThree.renditions) {
        const types = (await o.probeStreams(path.join(bareDir, r.variantDir, 'seg_00000.ts'))).join(',');
        if (types !== 'video,audio') throw new Error(`bench: today's argv wrote ${types} in ${r.variantDir}`);
      }
    },
  };
  for (let round = 0; round < o.rounds; round++) {
    for (let p = 0; p < pairs.length; p += 2) {
      const pair = round % 2 ? [pairs[p + 1], pairs[p]] : [pairs[p], pairs[p + 1]];
      for (const [key, what, step] of pair) {
        o.log(`languages round ${round + 1}/${o.rounds}: ${what}`);
        runs[key].push(await step());
        // Other processes on this machine set how far the wall times can be trusted: kept beside the figures.
        loads.push(os.loadavg()[0]);
        o.log(`  ${o.show(runs[key].at(-1))}, load average ${loads.at(-1).toFixed(1)}`);
        if (round === 0) await firstRunChecks[key]?.();
      }
    }
  }

  // The audio half alone: same chains, same muxer, no picture (each run a second or two, so more rounds).
  const onePlanToday = { ...planThree, renditions: planThree.renditions.slice(0, 1) };
  const audio = {
    today3: stripVideo(argv.today),
    today1: stripVideo(todaysArgv(onePlanToday, o)),
    new3: stripVideo(argv.newThree),
    new1: stripVideo(o.buildFfmpegArgs(planOne)),
  };
  // What each audio-only run must leave: sound alone, in as many folders as it has encodes.
  const folders = {
    today3: planThree.renditions.map((r) => r.variantDir),
    today1: [planThree.renditions[0].variantDir],
    new3: planThree.audioGroups.flatMap((g) => g.renditions.map((a) => a.dir)),
    new1: planOne.audioGroups.flatMap((g) => g.renditions.map((a) => a.dir)),
  };
  const keys = Object.keys(audio);
  const audioRuns = Object.fromEntries(keys.map((k) => [k, []]));
  o.log(`languages: the audio half of each argv alone, ${o.audioRounds} rounds of ${keys.join(', ')}`);
  for (let round = 0; round < o.audioRounds; round++) {
    // Rotate the order, so no variant always runs first.
    for (const key of [...keys.slice(round % keys.length), ...keys.slice(0, round % keys.length)]) {
      audioRuns[key].push(await bare(audio[key]));
      if (round > 0) continue;
      for (const dir of folders[key]) {
        const types = (await o.probeStreams(path.join(bareDir, dir, 'seg_00000.ts'))).join(',');
        if (types !== 'audio') throw new Error(`bench: the audio-only run ${key} wrote ${types} in ${dir}`);
      }
    }
  }

  const paired = (a, b, f) => median(runs[a].map((x, i) => f(x) / f(runs[b][i])));
  // CPU that encoding the default track once instead of once per rung saves: the old layout, 3 rungs against 1,
  // paired by round (each difference between two runs of the same round, under much the same load).
  const saved = median(audioRuns.today3.map((x, i) => x.cpu - audioRuns.today1[i].cpu));
  const med = (xs, f) => median(xs.map(f));
  return {
    films,
    argv,
    runs,
    audioRuns,
    audio,
    pairedWall: { jobs: paired('three', 'one', (x) => x.wall), bare: paired('newThree', 'today', (x) => x.wall) },
    pairedCpu: { jobs: paired('three', 'one', (x) => x.cpu), bare: paired('newThree', 'today', (x) => x.cpu) },
    savedCpuMs: saved,
    load: { median: median(loads), max: Math.max(...loads) },
    nice: os.getPriority(),
    medians: Object.fromEntries(
      Object.entries({
        ...runs,
        ...Object.fromEntries(Object.entries(audioRuns).map(([k, v]) => [`audio_${k}`, v])),
      }).map(([k, v]) => [
        k,
        // The fastest run too: on a busy machine the least disturbed one comes closest to an idle machine's time.
        { wall: med(v, (x) => x.wall), cpu: med(v, (x) => x.cpu), fastest: Math.min(...v.map((x) => x.wall)) },
      ]),
    ),
  };
}
