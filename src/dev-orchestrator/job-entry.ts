/**
 * What the dev orchestrator keeps per job: the public record (operator-schemas.ts JobRecord) plus the bookkeeping
 * that is never shown. Shared by store.ts (the protocol rules) and split-jobs.ts (the split policy).
 */
import type { PartRange } from './split-plan.js';
import type { JobRecord } from './operator-schemas.js';

/** A part or the stitch of a split job. */
export interface ChildRole {
  kind: 'part' | 'stitch';
  parent_job_id: string;
  /** Parts: its index and segment count (the weight of its progress in the parent's). */
  index?: number;
  segments?: number;
}

/** A parent that was cut into parts: its children's ids, in order. */
export interface SplitState {
  ranges: PartRange[];
  parts: string[];
  stitch?: string;
}

export interface JobEntry extends JobRecord {
  /** Consecutive syncs of its worker that did not report it. */
  missedSyncs: number;
  /** Queue order: enqueue order; the parts and stitch of a split job take their parent's place. */
  seq: number;
  /** Milliseconds since the epoch of enqueue_at (the split policy's hold counts from it). */
  enqueuedMs: number;
  role?: ChildRole;
  split?: SplitState;
  /** The split policy looked at this job and runs it whole (split_note says why). */
  whole?: boolean;
}
