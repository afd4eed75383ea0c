/**
 * Where the small files the worker itself writes into a staged ladder go: the joined media playlists, the cut
 * WebVTT renditions, the I-frame playlists and the master (ffmpeg's segments are not among them).
 *
 * A whole job or a part stages in the local temp_dir: plain writes, as fast as ever (localStagedWriter). A stitch
 * stages inside the parts area on the NAS, so that the commit can hard-link the segments: there anyone who writes
 * to the share can plant a link at one of those names or swap a folder for one, so every write goes through NasFs,
 * checked from the NAS root down right before it acts, file by file, never through a link (nasStagedWriter).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { writeTextDurably } from '../util/durable-file.js';
import type { NasFs } from './nas-fs.js';

export interface StagedWriter {
  /** mkdir -p. */
  mkdirs(dir: string): Promise<void>;
  /**
   * Writes `data` as `file`, replacing what is there. `durable` (the joined playlists): flushed before it
   * resolves, and locally through a temp file and a rename, so a crash leaves the old file or the new one.
   */
  writeFile(file: string, data: string, opts?: { durable?: boolean }): Promise<void>;
  /** Removes a file the job staged (a stray of the muxer); a missing one is fine. */
  removeFile(file: string): Promise<void>;
}

/** Plain writes in the local temp_dir (whole jobs and parts). */
export const localStagedWriter: StagedWriter = {
  async mkdirs(dir) {
    await mkdir(dir, { recursive: true });
  },
  async writeFile(file, data, opts) {
    if (opts?.durable) await writeTextDurably(file, data);
    else await writeFile(file, data);
  },
  async removeFile(file) {
    await rm(file, { force: true });
  },
};

/** Checked writes on the NAS (the stitch): each one a NasFs operation of its own, never following a link. */
export function nasStagedWriter(nas: NasFs): StagedWriter {
  return {
    async mkdirs(dir) {
      await nas.mkdirs(dir);
    },
    // Always flushed (replaceFile syncs), and never a temp file + rename: a retried stitch rewrites every file.
    writeFile: (file, data) => nas.replaceFile(file, data),
    removeFile: (file) => nas.removeFile(file),
  };
}
