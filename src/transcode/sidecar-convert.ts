/**
 * A sidecar subtitle file -> one whole WebVTT file, by a small ffmpeg run of its own (the main run reads the
 * source only). The file is read like every NAS file (source-format.ts): as "file:<path>", file protocol only, and
 * its demuxer pinned (srt, webvtt, ass: none of them opens another file). A file that is not UTF-8 is read as
 * Windows-1252, what most non-UTF-8 European subtitle files are; a file ffmpeg cannot read is skipped by the
 * caller with a warning, never failing the job.
 */
import type { CommandRunner } from '../exec/runner.js';
import { sourceUrl } from './source-format.js';
import type { SubtitlePlan } from './types.js';
import { readHead } from '../util/read-head.js';

type SidecarSource = Extract<SubtitlePlan['source'], { kind: 'sidecar' }>;

const DEMUXER: Record<SidecarSource['format'], string> = { srt: 'srt', webvtt: 'webvtt', ass: 'ass' };

/** True when the bytes are valid UTF-8 (a UTF-16 file starts with its BOM, which ffmpeg reads itself). */
export function looksUtf8(bytes: Uint8Array): boolean {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)))
    return true;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export function sidecarConvertArgs(source: SidecarSource, outPath: string, charset?: string): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-loglevel',
    'error',
    '-protocol_whitelist',
    'file',
    ...(charset ? ['-sub_charenc', charset] : []),
    '-f',
    DEMUXER[source.format],
    '-i',
    sourceUrl(source.path),
    '-map',
    '0:s:0',
    '-c:s',
    'webvtt',
    '-f',
    'webvtt',
    outPath,
  ];
}

export interface SidecarConvertDeps {
  runner: CommandRunner;
  ffmpegPath: string;
  signal?: AbortSignal;
}

/** Converts one sidecar; resolves to null on success, else the reason (for a warning). */
export async function convertSidecar(
  source: SidecarSource,
  outPath: string,
  deps: SidecarConvertDeps,
): Promise<string | null> {
  let charset: string | undefined;
  try {
    charset = looksUtf8(await readHead(source.path, 10 * 1024 * 1024)) ? undefined : 'CP1252';
  } catch (err) {
    return `cannot be read: ${(err as Error).message}`;
  }
  const res = await deps.runner(deps.ffmpegPath, sidecarConvertArgs(source, outPath, charset), {
    timeoutMs: 60_000,
    signal: deps.signal,
  });
  if (res.exitCode !== 0) {
    const why = res.stderr.trim().split('\n').slice(-2).join(' ').slice(0, 300);
    return `ffmpeg could not read it${why ? `: ${why}` : ''}`;
  }
  return null;
}
