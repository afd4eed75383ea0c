/**
 * A stitch found some parts not (yet) committed on the NAS. Its own class and its own exit code of `run-job --stitch`
 * (EXIT_PARTS_MISSING) because a scheduler without job dependencies (Kubernetes: docker/k3s/split-job) retries
 * exactly this case after a pause, and treats every other failure as a real one. The parts already there are kept.
 */
import { WorkerError } from '../errors.js';

export class PartsMissingError extends WorkerError {
  /** The indexes of the parts not found (0-based), in order. */
  readonly missing: readonly number[];
  constructor(parentJobId: string, count: number, missing: readonly number[]) {
    super(
      'PARTS_MISSING',
      `cannot stitch job ${parentJobId} yet: ${missing.length} of ${count} parts not committed ` +
        `(index ${missing.join(', ')}); the parts already there are kept`,
    );
    this.missing = [...missing];
  }
}
