/**
 * docs/protocol.md's "The job" section: every field of the Job schema, nested ones included, is a row with its type
 * and its description (the schema descriptions are the documentation), and no field is left undescribed.
 */
import { describe, expect, it } from 'vitest';
import { renderJobDoc } from '../../../src/docs/job-doc.js';
import { generateDocs } from '../../../src/docs/generate.js';
import { Job } from '../../../src/protocol/schemas.js';

interface Node {
  description?: string;
  properties?: Record<string, Node>;
  items?: Node;
}

/** [field name as the doc writes it, its schema node], depth first. */
function fields(node: Node, prefix = ''): Array<[string, Node]> {
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => [
    [`${prefix}${name}`, child] as [string, Node],
    ...fields(child, `${prefix}${name}.`),
    ...(child.items?.properties ? fields(child.items, `${prefix}${name}[].`) : []),
  ]);
}

const doc = renderJobDoc(Job);
const schemaFields = fields(JSON.parse(JSON.stringify(Job)) as Node);
const row = (field: string) => doc.split('\n').find((l) => l.startsWith(`| \`${field}\` |`));

describe('docs/protocol.md: the job, field by field', () => {
  it('is in docs/protocol.md, before the endpoints', () => {
    const protocol = generateDocs()['docs/protocol.md']!;
    expect(protocol).toContain(doc);
    expect(protocol.indexOf('## The job')).toBeLessThan(protocol.indexOf('## Endpoints'));
  });

  it('has one row per schema field, each with a description', () => {
    expect(schemaFields.length).toBeGreaterThan(20);
    for (const [field, node] of schemaFields) {
      expect(row(field), field).toBeDefined();
      expect(node.description ?? '', `${field} has no description in src/protocol/schemas.ts`).not.toBe('');
    }
    expect(doc.split('\n').filter((l) => l.startsWith('| `'))).toHaveLength(schemaFields.length);
  });

  it('documents the issue 11 fields with their defaults and limits', () => {
    expect(row('audio_config.surround_codec')).toContain('"eac3" (E-AC-3, the default');
    expect(row('audio_config.surround_bitrate')).toContain('"192k" to "640k"; default 384k');
    expect(row('audio_config.bitrate')).toContain('"32k" to "512k"; default 128k');
    expect(row('audio_config.languages')).toMatch(/^\| `audio_config.languages` \| `string\[\]` \| no \|/);
    expect(row('outputs[].audio_codec')).toContain('only "aac"');
    expect(row('output_base')).toContain('Every output must lie inside it');
    expect(row('subtitles.sidecars')).toContain('Default true');
    expect(row('hls_settings.segment_type')).toContain('`"ts" \\| "fmp4" \\| ""`');
  });

  it('escapes what would break the table or read as HTML', () => {
    expect(row('outputs[].dest_path')).toContain('&lt;master folder&gt;/&lt;master stem&gt;_tracks');
    expect(row('outputs[].dest_path')).toContain('no &lt; &gt; : " \\| ? *');
  });
});
