/**
 * docs/protocol.md explains the optional extension split-stitch/1 and resumable jobs to people writing an
 * orchestrator: the sections are there, in order, name the schema's own fields, and say what a boundary may be.
 */
import { describe, expect, it } from 'vitest';
import { generateDocs } from '../../../src/docs/generate.js';
import { audioAlignmentStep } from '../../../src/media/segment-grid.js';
import { Capabilities, FinalizeMetrics, JobPart, JobStitch } from '../../../src/protocol/schemas.js';

const doc = generateDocs()['docs/protocol.md']!;
const section = (title: string) => {
  const start = doc.indexOf(`## ${title}`);
  expect(start, title).toBeGreaterThan(0);
  return doc.slice(start, doc.indexOf('\n## ', start + 3));
};

describe('docs/protocol.md: extension split-stitch/1 and resumable jobs', () => {
  it('has both sections after the job table and before the endpoints', () => {
    const at = (s: string) => doc.indexOf(s);
    expect(at('## The job')).toBeLessThan(at('## Extension: split and stitch (split-stitch/1)'));
    expect(at('## Extension: split and stitch (split-stitch/1)')).toBeLessThan(at('## Resumable jobs'));
    expect(at('## Resumable jobs')).toBeLessThan(at('## Endpoints'));
  });

  it('names every field of part, stitch, their finalize metrics and capabilities.extensions', () => {
    const text = section('Extension: split and stitch');
    for (const field of [...Object.keys(JobPart.properties), ...Object.keys(JobStitch.properties)])
      expect(text, field).toContain(field);
    const metrics = FinalizeMetrics.properties;
    for (const field of [...Object.keys(metrics.part.properties), ...Object.keys(metrics.stitch.properties)])
      expect(text, field).toContain(field);
    expect(text).toContain('capabilities.extensions: ["split-stitch/1"]');
    expect(Capabilities.properties.extensions).toBeDefined();
    expect(text).toMatch(/only to workers that list it/);
    expect(text).toContain('.tw-parts-');
  });

  it('lets parts start on any segment, and says which segment_time cannot be split', () => {
    const text = section('Extension: split and stitch');
    expect(text).toContain('Any segment boundary will do');
    expect(text).toContain('T = 4.00001');
    expect(audioAlignmentStep(4.00001)).toBeNull();
    expect(text).not.toMatch(/multiple of the\s+\*\*alignment step/);
  });

  it('tells an orchestrator to re-queue a resumable FAILED job to the same worker', () => {
    const text = section('Resumable jobs');
    expect(text).toContain('metrics.resume.resumable');
    expect(text).toContain('same `worker_id`');
    for (const field of Object.keys(FinalizeMetrics.properties.resume.properties)) expect(text, field).toContain(field);
  });
});
