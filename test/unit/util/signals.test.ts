import { describe, expect, it } from 'vitest';
import { onShutdownSignal, shutdownSignals } from '../../../src/util/signals.js';

describe('shutdown signals', () => {
  it('SIGBREAK only on Windows', () => {
    expect(shutdownSignals('win32')).toEqual(['SIGINT', 'SIGTERM', 'SIGBREAK']);
    expect(shutdownSignals('linux')).toEqual(['SIGINT', 'SIGTERM']);
  });

  it('a handler is installed on every shutdown signal and removed by the returned function', () => {
    const before = shutdownSignals().map((s) => process.listenerCount(s));
    const remove = onShutdownSignal(() => undefined);
    expect(shutdownSignals().map((s) => process.listenerCount(s))).toEqual(before.map((n) => n + 1));
    remove();
    expect(shutdownSignals().map((s) => process.listenerCount(s))).toEqual(before);
  });
});
