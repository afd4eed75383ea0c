/** The generated docs must match the schemas: regenerate in memory and compare with the committed files. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, schemaLeaves } from '../../../src/config-schema.js';
import { loadConfig } from '../../../src/config.js';
import { generateDocs } from '../../../src/docs/generate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const generated = generateDocs();
const HINT = 'is out of date: run npx tsx scripts/gen-docs.ts';

describe('generated documentation', () => {
  for (const [rel, text] of Object.entries(generated)) {
    it(`${rel} matches the schemas`, async () => {
      // A Windows checkout may have CRLF line ends; the content is what matters.
      const committed = (await readFile(path.join(root, rel), 'utf8').catch(() => '(missing)')).replace(/\r\n/g, '\n');
      expect(committed === text, `${rel} ${HINT}`).toBe(true);
    });
  }

  it('docs/config.md and config-example.yml name every key, its env var and its flag', () => {
    for (const leaf of schemaLeaves(configSchema)) {
      expect(generated['docs/config.md'], leaf.key).toContain(`\`${leaf.key}\``);
      if (leaf.env) expect(generated['docs/config.md']).toContain(leaf.env);
      if (leaf.arg) expect(generated['config-example.yml']).toContain(`--${leaf.arg}`);
      const name = leaf.key.split('.').at(-1)!;
      expect(generated['config-example.yml']).toMatch(new RegExp(`^\\s*(# )?${name}:`, 'm'));
    }
  });

  it('docs/protocol.md embeds the OpenAPI document as JSON', () => {
    const m = /```json\n([\s\S]+?)\n```/.exec(generated['docs/protocol.md']!);
    expect(m).not.toBeNull();
    expect(JSON.parse(m![1]!).openapi).toBe('3.1.0');
  });

  describe('config-example.yml', () => {
    let nas: string | undefined;
    afterAll(async () => {
      if (nas) await rm(nas, { recursive: true, force: true });
    });

    it('loads with loadConfig and gives exactly the defaults', async () => {
      nas = await mkdtemp(path.join(os.tmpdir(), 'cfg-example-nas-'));
      const file = path.join(root, 'config-example.yml');
      const config = loadConfig({
        configFile: file,
        env: {},
        args: ['--nas-mount-path', nas],
        requireNas: true,
        cwd: root,
      });
      expect(config.nas_mount_path).toBe(path.resolve(nas));
      const defaults = loadConfig({ env: {}, args: ['--nas-mount-path', nas], cwd: nas });
      expect(config).toEqual(defaults);
      // Every key the file sets is written with its schema default.
      const yaml = parse(generated['config-example.yml']!) as Record<string, unknown>;
      expect(Object.keys(yaml).length).toBeGreaterThan(10);
    });
  });
});
