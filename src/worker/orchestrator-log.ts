import type { Logger } from '../log.js';
import { PermanentOrchestratorError, errorMessage } from '../errors.js';

/**
 * How a failed orchestrator call is logged: an auth problem is an error a person must fix (and the line says so, with
 * auth_problem: true for alerting); anything else is a warning that the retries cure.
 */
export function logOrchestratorError(
  log: Logger,
  err: unknown,
  msg: string,
  extra: Record<string, unknown> = {},
): void {
  if (err instanceof PermanentOrchestratorError && err.isAuth)
    log.error({ ...extra, err: errorMessage(err), auth_problem: true }, `${msg} (authentication problem)`);
  else log.warn({ ...extra, err: errorMessage(err) }, msg);
}
