/**
 * The OpenAPI 3.1 document of the worker protocol, generated from the TypeBox schemas (src/protocol/schemas.ts)
 * so it cannot drift from what the code validates. The dev orchestrator's operator API is included under its own
 * tag. docs/protocol.md embeds this document (scripts/gen-docs.ts; a test checks the file is up to date).
 */
import type { TSchema } from '@sinclair/typebox';
import {
  OPERATOR_ROUTES,
  ChildSummary,
  ErrorBody,
  EnqueueJobRequest,
  JobList,
  JobRecord,
  WorkerList,
  WorkerRecord,
} from '../dev-orchestrator/operator-schemas.js';
import * as P from '../protocol/schemas.js';
import { OPERATOR_401, ROUTE_DOCS, STATUS_TEXT, type RouteDoc } from '../protocol/route-docs.js';

export const PROTOCOL_TAG = 'worker protocol';
export const OPERATOR_TAG = 'dev-orchestrator operator API';

/** Named schemas, in the order they appear under components.schemas. */
const COMPONENTS: TSchema[] = [
  P.RegisterRequest,
  P.RegisterResponse,
  P.Capabilities,
  P.SyncRequest,
  P.SyncResponse,
  P.Job,
  P.ProgressRequest,
  P.FinalizeRequest,
  P.AnyAck,
  ErrorBody,
  EnqueueJobRequest,
  ChildSummary,
  JobRecord,
  JobList,
  WorkerRecord,
  WorkerList,
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type OpenApiDocument = { openapi: '3.1.0' } & { [k: string]: Json };

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** Plain JSON of a TypeBox schema; nested named schemas become $refs, the root loses its $id. */
function toComponent(schema: TSchema, known: ReadonlySet<string>): Json {
  const walk = (node: unknown, root: boolean): Json => {
    if (Array.isArray(node)) return node.map((n) => walk(n, false));
    if (!node || typeof node !== 'object') return node as Json;
    const obj = node as Record<string, unknown>;
    const id = typeof obj.$id === 'string' ? obj.$id : undefined;
    if (!root && id && known.has(id)) return ref(id);
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(obj)) if (k !== '$id') out[k] = walk(v, false);
    return out;
  };
  // JSON round trip drops TypeBox's symbol keys ([Kind], [OptionalKind]).
  return walk(JSON.parse(JSON.stringify(schema)), true);
}

function idOf(schema: TSchema): string {
  if (!schema.$id) throw new Error('a route schema without $id cannot be referenced');
  return schema.$id;
}

function responses(
  doc: RouteDoc,
  response: TSchema,
  errors: readonly number[],
  opts: { hasBody: boolean; protocol: boolean },
): Record<string, Json> {
  const out: Record<string, Json> = {
    '200': { description: doc.ok, content: { 'application/json': { schema: ref(idOf(response)) } } },
  };
  const base = opts.hasBody ? [400, 401] : [401];
  const codes = [...new Set([...base, ...errors, ...Object.keys(doc.errors ?? {}).map(Number)])].sort((a, b) => a - b);
  for (const code of codes) {
    const generic = code === 401 && !opts.protocol ? OPERATOR_401 : STATUS_TEXT[code];
    out[String(code)] = {
      description: doc.errors?.[code] ?? generic ?? 'Error.',
      content: { 'application/json': { schema: ref('Error') } },
    };
  }
  return out;
}

function operation(
  tag: string,
  method: string,
  path: string,
  body: TSchema | undefined,
  response: TSchema,
  errors: readonly number[],
  fallbackSummary: string,
): Json {
  const doc: RouteDoc = ROUTE_DOCS[`${method.toUpperCase()} ${path}`] ?? { summary: fallbackSummary, ok: 'OK.' };
  const parameters: Json[] = [];
  if (path.includes('{job_id}'))
    parameters.push({
      name: 'job_id',
      in: 'path',
      required: true,
      schema: { type: 'string' },
      description: 'The job id.',
    });
  for (const q of doc.query ?? []) parameters.push({ in: 'query', required: false, ...q });
  if (tag === PROTOCOL_TAG)
    parameters.push({
      name: 'X-Worker-ID',
      in: 'header',
      required: false,
      schema: { type: 'string' },
      description:
        'Sent by the worker on every call; must equal the body worker_id when both are present (400 otherwise).',
    });
  const op: Record<string, Json> = {
    tags: [tag],
    operationId:
      doc.operationId ??
      `${method}${path.replace(/\{[^}]+\}/g, 'ById').replace(/[^A-Za-z]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: doc.summary,
  };
  if (doc.description) op.description = doc.description;
  if (parameters.length) op.parameters = parameters;
  if (body) op.requestBody = { required: true, content: { 'application/json': { schema: ref(idOf(body)) } } };
  op.responses = responses(doc, response, errors, { hasBody: body !== undefined, protocol: tag === PROTOCOL_TAG });
  return op;
}

export function buildOpenApiDocument(): OpenApiDocument {
  const known = new Set(COMPONENTS.map(idOf));
  const schemas: Record<string, Json> = {};
  for (const s of COMPONENTS) schemas[idOf(s)] = toComponent(s, known);
  // The schema leaves assigned_job open so a malformed job fails only that job; what an orchestrator sends is a Job.
  const sync = schemas.SyncResponse as { properties: Record<string, Json> };
  sync.properties.assigned_job = {
    description: 'The job to run now, when the worker is IDLE and one fits. The worker validates it on its own.',
    anyOf: [ref('Job'), { type: 'null' }],
  };

  const paths: Record<string, Record<string, Json>> = {};
  const add = (path: string, method: string, op: Json) => ((paths[path] ??= {})[method] = op);
  for (const r of P.PROTOCOL_ROUTES)
    add(r.path, r.method, operation(PROTOCOL_TAG, r.method, r.path, r.body, r.response, [], r.path));
  for (const r of OPERATOR_ROUTES)
    add(
      r.path,
      r.method,
      operation(OPERATOR_TAG, r.method, r.path, 'body' in r ? r.body : undefined, r.response, r.errors, r.summary),
    );

  return {
    openapi: '3.1.0',
    info: {
      title: 'transcode-worker orchestrator protocol',
      version: '1',
      description:
        'What a transcode-worker expects from its orchestrator (tag "worker protocol"), and the operator API of the reference dev orchestrator (tag "dev-orchestrator operator API", not part of the protocol).',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: 'http://127.0.0.1:8080', description: 'transcode-worker dev-orchestrator (default port)' }],
    tags: [
      { name: PROTOCOL_TAG, description: 'Implemented by every orchestrator; called by the worker.' },
      { name: OPERATOR_TAG, description: 'Only in the dev orchestrator: enqueue and inspect jobs.' },
    ],
    security: [{}, { bearerAuth: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'Sent when the worker has auth_token set. An orchestrator that requires it answers 401 without it.',
        },
      },
    },
  };
}
