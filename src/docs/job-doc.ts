/**
 * The "Job" section of docs/protocol.md: one table row per field of the Job schema (nested fields as
 * "audio_config.surround", array items as "outputs[].codec"), with its type, whether it is required, and its
 * description. The schema descriptions are the documentation; this only lays them out for a person.
 */
import type { TSchema } from '@sinclair/typebox';

interface Node {
  type?: string;
  const?: unknown;
  anyOf?: Node[];
  items?: Node;
  properties?: Record<string, Node>;
  required?: string[];
  description?: string;
}

/** "string", "boolean", "string[]", "object[]", `"ts" | "fmp4" | ""`. */
function typeOf(node: Node): string {
  if (node.anyOf) return node.anyOf.map(typeOf).join(' | ');
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.type === 'array') return `${node.items ? typeOf(node.items) : 'any'}[]`;
  return node.type ?? 'any';
}

/** A table cell: "|" would end it, and "<master folder>" would be read as an HTML tag. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function rows(node: Node, prefix: string, out: string[]): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const field = `${prefix}${name}`;
    const required = node.required?.includes(name) ? 'yes' : 'no';
    out.push(`| \`${field}\` | \`${cell(typeOf(child))}\` | ${required} | ${cell(child.description ?? '')} |`);
    if (child.properties) rows(child, `${field}.`, out);
    if (child.items?.properties) rows(child.items, `${field}[].`, out);
  }
}

const INTRO = `## The job

What an orchestrator puts in a sync answer's \`assigned_job\` (schema \`Job\`), field by field. Every field not
marked required may be left out. An orchestrator written in Go may send its zero values instead: \`""\`, \`0\`
and \`null\` (a nil struct, slice or pointer) mean "the default", and \`job_id\` may be a number; \`false\`
means false (see \`subtitles\`). A field the worker cannot honour fails the job with an \`error_msg\` that names
the field and its value, e.g. \`outputs[1].audio_codec = "mp3": only "aac" is supported ...\`.
`;

export function renderJobDoc(job: TSchema): string {
  const node = JSON.parse(JSON.stringify(job)) as Node;
  const lines = [INTRO, '| Field | Type | Required | Meaning |', '| --- | --- | --- | --- |'];
  rows(node, '', lines);
  return `${lines.join('\n')}\n`;
}
