/**
 * Writes the generated documentation: docs/protocol.md (from the protocol schemas), docs/config.md and
 * config-example.yml (from the config schema). Run after changing a schema:
 *
 *   npx tsx scripts/gen-docs.ts           write the files
 *   npx tsx scripts/gen-docs.ts --check   exit 1 when a file is out of date (what the test checks)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDocs } from '../src/docs/generate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const [rel, text] of Object.entries(generateDocs())) {
  const file = path.join(root, rel);
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === text) continue;
  if (check) {
    console.error(`${rel} is out of date: run npx tsx scripts/gen-docs.ts`);
    stale += 1;
    continue;
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  console.log(`wrote ${rel}`);
}
process.exitCode = stale ? 1 : 0;
