import { defineConfig } from 'vitest/config';

/**
 * The ffmpeg matrix subset (test/matrix/*.e2e.ts), run by scripts/ci-ffmpeg-matrix.sh once per ffmpeg version:
 * on the host and inside each test/matrix image. Not part of `npm test` (vitest.config.ts takes *.test.ts only).
 * Caches go to the temp folder: inside a container the repository is mounted read-only.
 */
export default defineConfig({
  cacheDir: process.env.MATRIX_CACHE_DIR ?? 'node_modules/.vite',
  test: {
    include: ['test/matrix/**/*.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One file, its jobs in order against one worker: nothing to run side by side.
    maxWorkers: 1,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
