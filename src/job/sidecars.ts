/**
 * Subtitle files beside the source, named the way Jellyfin and Plex users name them ("Movie.en.srt",
 * "Movie.fr.forced.srt", "Movie.de.sdh.vtt"; media/sidecar-names.ts reads the names). Only regular files directly in
 * the source's own folder are taken: never a link (it could lead anywhere), never a FIFO or device, never a file
 * in another folder, and never an oversized one (a subtitle file is kilobytes; gigabytes is something else).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseSidecarName } from '../media/sidecar-names.js';
import { ConfinementError, openNasFs } from '../storage/nas-fs.js';
import type { SidecarSubtitle } from '../transcode/plan-subtitles.js';

/** Larger than any subtitle file of a feature film (a dense 3-hour SRT is ~200 KB). */
export const MAX_SIDECAR_BYTES = 10 * 1024 * 1024;

export interface SidecarSearch {
  nasRoot: string;
  /** Absolute path of the source (validated inside the NAS root). */
  inputPath: string;
  caseInsensitive: boolean;
  /** Told of each candidate that was left out, and why. */
  onSkip?: (file: string, why: string) => void;
}

/** Sidecar subtitle files of the source, sorted by name; [] when its folder cannot be listed. */
export async function findSidecars(s: SidecarSearch): Promise<SidecarSubtitle[]> {
  const dir = path.dirname(s.inputPath);
  const base = path.basename(s.inputPath);
  const nas = await openNasFs(s.nasRoot);
  let names: string[];
  try {
    await nas.check(dir);
    names = (await readdir(dir)).sort();
  } catch (err) {
    if (!(err instanceof ConfinementError)) s.onSkip?.(dir, `the folder cannot be listed: ${(err as Error).message}`);
    return [];
  }
  const found: SidecarSubtitle[] = [];
  for (const name of names) {
    const info = parseSidecarName(base, name, { caseInsensitive: s.caseInsensitive });
    if (!info) continue;
    const file = path.join(dir, name);
    const st = await nas.lstatOrNull(file).catch(() => null);
    if (!st || !st.isFile()) {
      s.onSkip?.(file, 'not a regular file (a link, a folder or a device is never read)');
      continue;
    }
    if (st.size > MAX_SIDECAR_BYTES) {
      s.onSkip?.(file, `${st.size} bytes is too large for a subtitle file`);
      continue;
    }
    found.push({
      path: file,
      format: info.format,
      ...(info.language ? { language: info.language } : {}),
      ...(info.title ? { title: info.title } : {}),
      forced: info.forced,
      hearingImpaired: info.hearingImpaired,
      isDefault: info.isDefault,
    });
  }
  return found;
}
