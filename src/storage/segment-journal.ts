/**
 * The durable record of the segments ffmpeg has finished, which is what makes a resume possible.
 *
 * ffmpeg runs with `-hls_playlist_type event -hls_flags independent_segments+temp_file`: it rewrites each
 * rendition's media playlist after every segment (through a .tmp file and a rename), and a segment file under its
 * final name is complete, so a listed segment is a finished one. ffmpeg does not fsync, though. scan() reads the
 * playlists, fsyncs each newly listed segment, and only then appends it to the journal (one JSON line, fsynced), so
 * after a crash or power cut every journaled segment is on disk with the recorded size.
 *
 * Journal lines: `{"r": rendition dir, "n": index, "f": file (URI as listed), "d": EXTINF as ffmpeg printed it,
 * "b": bytes, "m"?: #EXT-X-MAP URI}`; a later line for the same (r, n) replaces an earlier one. A torn last line
 * (the power went mid-append) is cut off on open.
 */
import { promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { syncFolder } from '../util/durable-file.js';
import { parseEventPlaylist } from './event-playlist.js';

export interface JournaledSegment {
  rendition: string;
  index: number;
  file: string;
  duration: string;
  bytes: number;
  map?: string;
}

export interface SegmentJournal {
  /** Reads each rendition's EVENT playlist; fsyncs + records the newly complete segments; returns them. */
  scan(): Promise<JournaledSegment[]>;
  /** The recorded segments of one rendition, by index (gaps possible: see completePrefix). */
  segments(rendition: string): JournaledSegment[];
  /** Min over renditions of the count contiguous from index 0 whose file is still there with its recorded size. */
  completePrefix(): number;
  /**
   * Forgets entries >= fromIndex (a resume re-encodes them; per rendition when a function), durably. Also removes the renditions' EVENT
   * playlists: they still list the forgotten segments, and a scan before the resumed run's first playlist must not
   * record them again (the resumed run rewrites those files).
   */
  truncate(fromIndex: number | ((rendition: string) => number)): Promise<void>;
  close(): Promise<void>;
}

export interface SegmentJournalOptions {
  /** The journal file (`<state_dir>/resume/<job>/segments.jsonl`). */
  file: string;
  /** The job's staging folder; each rendition's playlist is `<stagingDir>/<rendition>/<playlistName>`. */
  stagingDir: string;
  /** Rendition folders relative to stagingDir ("v0", "index_tracks/a0", "."). */
  renditions: string[];
  playlistName: string;
}

interface JournalLine {
  r: string;
  n: number;
  f: string;
  d: string;
  b: number;
  m?: string;
}

function toLine(s: JournaledSegment): JournalLine {
  return { r: s.rendition, n: s.index, f: s.file, d: s.duration, b: s.bytes, ...(s.map ? { m: s.map } : {}) };
}

function fromLine(v: unknown): JournaledSegment | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const l = v as Partial<JournalLine>;
  const ok =
    typeof l.r === 'string' &&
    Number.isSafeInteger(l.n) &&
    (l.n as number) >= 0 &&
    typeof l.f === 'string' &&
    typeof l.d === 'string' &&
    Number.isSafeInteger(l.b) &&
    (l.m === undefined || typeof l.m === 'string');
  if (!ok) return undefined;
  return { rendition: l.r!, index: l.n!, file: l.f!, duration: l.d!, bytes: l.b!, ...(l.m ? { map: l.m } : {}) };
}

/** A segment URI we resolve under its rendition folder: relative, inside it (ours always are: "seg_00003.ts"). */
function isLocalUri(uri: string): boolean {
  if (uri.includes('://') || uri.startsWith('/') || uri.startsWith('\\') || /^[A-Za-z]:/.test(uri)) return false;
  return !uri.split(/[\\/]/).includes('..');
}

/** The journal text: complete lines, with a torn last line (no newline: cut by a crash) cut off. */
async function readJournal(file: string): Promise<{ entries: JournaledSegment[]; validBytes: number; size: number }> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], validBytes: 0, size: 0 };
    throw err;
  }
  const validBytes = buf.lastIndexOf(0x0a) + 1;
  const entries: JournaledSegment[] = [];
  for (const text of buf.subarray(0, validBytes).toString('utf8').split('\n')) {
    if (!text.trim()) continue;
    let parsed: JournaledSegment | undefined;
    try {
      parsed = fromLine(JSON.parse(text));
    } catch {
      parsed = undefined; // a damaged line loses its segment; completePrefix stops at the gap
    }
    if (parsed) entries.push(parsed);
  }
  return { entries, validBytes, size: buf.length };
}

export async function openSegmentJournal(o: SegmentJournalOptions): Promise<SegmentJournal> {
  await fs.mkdir(path.dirname(o.file), { recursive: true });
  const { entries, validBytes, size } = await readJournal(o.file);
  if (validBytes < size) {
    // Cut the torn line off durably, or the next append would glue a good line onto it.
    const h = await fs.open(o.file, 'r+');
    try {
      await h.truncate(validBytes);
      await h.sync();
    } finally {
      await h.close();
    }
  }
  const journal = new FileSegmentJournal(o);
  for (const e of entries) journal.remember(e);
  await journal.openAppend();
  // A journal file just created must survive a power cut as a name too, not only as appended data.
  await syncFolder(path.dirname(o.file));
  return journal;
}

class FileSegmentJournal implements SegmentJournal {
  /** rendition -> index -> segment. */
  private readonly byRendition = new Map<string, Map<number, JournaledSegment>>();
  private handle: fs.FileHandle | undefined;
  /** Every operation runs after the previous one: a scan never interleaves with another scan or a truncate. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  /** Set after a failed write: later segments live in memory only (see scanNow). */
  private diskFailed = false;

  constructor(private readonly o: SegmentJournalOptions) {}

  remember(s: JournaledSegment): void {
    let m = this.byRendition.get(s.rendition);
    if (!m) this.byRendition.set(s.rendition, (m = new Map()));
    m.set(s.index, s);
  }

  async openAppend(): Promise<void> {
    this.handle = await fs.open(this.o.file, 'a');
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new Error(`the segment journal ${this.o.file} is closed`);
      return op();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  scan(): Promise<JournaledSegment[]> {
    return this.serial(() => this.scanNow());
  }

  private async scanNow(): Promise<JournaledSegment[]> {
    const fresh: JournaledSegment[] = [];
    for (const rendition of this.o.renditions) {
      const dir = path.join(this.o.stagingDir, rendition);
      let text: string;
      try {
        text = await fs.readFile(path.join(dir, this.o.playlistName), 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Not written yet, or between unlink and rename on a platform where that shows: no news.
        if (code === 'ENOENT' || code === 'EPERM' || code === 'EBUSY' || code === 'EACCES') continue;
        throw err;
      }
      for (const listed of parseEventPlaylist(text)) {
        if (!isLocalUri(listed.uri)) continue;
        const known = this.byRendition.get(rendition)?.get(listed.index);
        if (known && known.file === listed.uri && known.duration === listed.duration) continue;
        const bytes = await syncFile(path.join(dir, listed.uri));
        if (bytes === undefined) continue; // listed but gone (removed by a resume): not finished work
        fresh.push({
          rendition,
          index: listed.index,
          file: listed.uri,
          duration: listed.duration,
          bytes,
          ...(listed.map ? { map: listed.map } : {}),
        });
      }
    }
    if (fresh.length === 0) return fresh;
    // The run's own playlists are joined from memory, so a journal that cannot be written (a full state_dir) only
    // costs the resume: the batch is remembered first. After one failed write nothing more is appended, so the
    // file stays a clean prefix (a torn last line is ignored on open) and a resume never trusts a hole.
    for (const s of fresh) this.remember(s);
    if (this.diskFailed) return fresh;
    // One append and one fsync per scan.
    const text = fresh.map((s) => JSON.stringify(toLine(s)) + '\n').join('');
    try {
      await this.handle!.appendFile(text, 'utf8');
      await this.handle!.sync();
    } catch (err) {
      this.diskFailed = true;
      throw err;
    }
    return fresh;
  }

  segments(rendition: string): JournaledSegment[] {
    const m = this.byRendition.get(rendition);
    return m ? [...m.values()].sort((a, b) => a.index - b.index) : [];
  }

  completePrefix(): number {
    if (this.o.renditions.length === 0) return 0;
    let min = Infinity;
    for (const rendition of this.o.renditions) {
      const m = this.byRendition.get(rendition);
      let n = 0;
      // A synchronous stat per segment (the signature is synchronous): some thousands for a long film, asked once.
      while (m?.has(n) && this.fileIntact(rendition, m.get(n)!)) n++;
      min = Math.min(min, n);
    }
    return min;
  }

  private fileIntact(rendition: string, s: JournaledSegment): boolean {
    try {
      const st = statSync(path.join(this.o.stagingDir, rendition, s.file));
      return st.isFile() && st.size === s.bytes;
    } catch {
      return false;
    }
  }

  truncate(fromIndex: number | ((rendition: string) => number)): Promise<void> {
    const fromOf = typeof fromIndex === 'number' ? () => fromIndex : fromIndex;
    return this.serial(async () => {
      const kept: JournaledSegment[] = [];
      for (const [rendition, m] of this.byRendition) {
        const from = fromOf(rendition);
        for (const [n, s] of m) {
          if (n >= from) m.delete(n);
          else kept.push(s);
        }
      }
      kept.sort((a, b) => a.index - b.index || a.rendition.localeCompare(b.rendition));
      await this.rewrite(kept.map((s) => JSON.stringify(toLine(s)) + '\n').join(''));
      for (const rendition of this.o.renditions) {
        await fs.rm(path.join(this.o.stagingDir, rendition, this.o.playlistName), { force: true });
      }
    });
  }

  /** Replaces the journal by `text`: temp file, fsync, rename, folder fsync; then appends go to the new file. */
  private async rewrite(text: string): Promise<void> {
    const tmp = `${this.o.file}.rewrite.tmp`;
    const h = await fs.open(tmp, 'w');
    try {
      await h.writeFile(text, 'utf8');
      await h.sync();
    } finally {
      await h.close();
    }
    // Windows cannot rename over a file that is open: close the append handle first.
    await this.handle?.close();
    this.handle = undefined;
    await fs.rename(tmp, this.o.file);
    await syncFolder(path.dirname(this.o.file));
    await this.openAppend();
  }

  close(): Promise<void> {
    return this.serial(async () => {
      this.closed = true;
      await this.handle?.close();
      this.handle = undefined;
    });
  }
}

/**
 * fsyncs a finished segment and returns its size; undefined when it is not there. Windows' FlushFileBuffers needs
 * a handle with write access, so there the file is opened r+ (it is complete and ffmpeg no longer writes it).
 */
async function syncFile(file: string): Promise<number | undefined> {
  let h: fs.FileHandle;
  try {
    h = await fs.open(file, process.platform === 'win32' ? 'r+' : 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    await h.sync();
    return (await h.stat()).size;
  } finally {
    await h.close();
  }
}

export interface JournalWatch {
  /** Stops the timer, waits for a scan in flight, then scans once more (so nothing ffmpeg listed is missed). */
  stop(): Promise<void>;
}

/** Scans every intervalMs (never two at once) while ffmpeg runs; a failed scan is reported and the next one tries. */
export function watchSegmentJournal(
  j: SegmentJournal,
  o: { intervalMs: number; onError(err: unknown): void },
): JournalWatch {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = (): void => {
    inFlight = j
      .scan()
      .then(
        () => undefined,
        (err: unknown) => o.onError(err),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, o.intervalMs);
      });
  };
  timer = setTimeout(tick, o.intervalMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
      await j.scan(); // the last word: its error is the caller's (the journal may lack the final segments)
    },
  };
}
