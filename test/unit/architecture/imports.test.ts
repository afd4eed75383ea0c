/**
 * The layout shows the architecture: this reads every import under src/ and fails on an import circle (between
 * folders, or between files) and on an import in a forbidden direction. Media work and storage sit below the job;
 * the worker, the app and the dev orchestrator sit above it; util/ sits below everything.
 *
 * A folder is a first-level folder of src/ (transcode/args counts as transcode/); a file directly in src/ is its own
 * node ("config", "errors", "app", ...). Type-only imports count: a type from above is still an upward arrow.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../../src');

/** Media work, storage and the utilities: the rooms below the job. */
const LOWER = ['transcode', 'storage', 'capabilities', 'exec', 'util', 'protocol', 'media'];
/** What the rooms below the job never import: the job itself and everything that runs or serves jobs. */
const ABOVE = ['job', 'worker', 'app', 'main', 'demo', 'http', 'dev-orchestrator', 'orchestrator', 'docs'];

/**
 * Known exceptions to the rules below, each with its reason. None today: keep it that way. A stale entry (no such
 * import any more) fails the test, so an exception cannot outlive its reason.
 */
const KNOWN_EXCEPTIONS: ReadonlyArray<{ from: string; to: string }> = [];

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

const STATIC_RE = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm;
const DYNAMIC_RE = /\bimport\(\s*'([^']+)'\s*\)/g;

function importsOf(file: string): Edge[] {
  const text = readFileSync(file, 'utf8');
  const from = path.relative(SRC, file).split(path.sep).join('/');
  const edges: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (!spec.startsWith('.')) return; // a package
    const target = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
    edges.push({ from, to: path.relative(SRC, target).split(path.sep).join('/'), typeOnly });
  };
  for (const m of text.matchAll(STATIC_RE)) add(m[3]!, m[2] !== undefined);
  for (const m of text.matchAll(DYNAMIC_RE)) add(m[1]!, false);
  return edges;
}

/** "transcode/args/nvidia.ts" -> "transcode"; "config.ts" -> "config". */
function roomOf(file: string): string {
  const [first, ...rest] = file.split('/');
  return rest.length ? first! : first!.replace(/\.ts$/, '');
}

function isException(e: Edge): boolean {
  return KNOWN_EXCEPTIONS.some((x) => e.from === x.from && (e.to === x.to || e.to.startsWith(x.to)));
}

/** The cycles of a graph (one per strongly connected component with more than one node), as node lists. */
function cycles(nodes: Iterable<string>, next: (n: string) => Iterable<string>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) visit(n);
  return out;
}

function graphOf(edges: readonly Edge[], node: (file: string) => string): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>();
  for (const e of edges) {
    const a = node(e.from);
    const b = node(e.to);
    if (!g.has(a)) g.set(a, new Set());
    if (!g.has(b)) g.set(b, new Set());
    if (a !== b) g.get(a)!.add(b);
  }
  return g;
}

const allEdges = sourceFiles(SRC).flatMap(importsOf);
const edges = allEdges.filter((e) => !isException(e));
const show = (list: readonly Edge[]) => list.map((e) => `${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`);

describe('the import graph of src/', () => {
  it('is read (the parser finds the imports it must judge)', () => {
    expect(allEdges.length).toBeGreaterThan(200);
    expect(allEdges).toContainEqual({ from: 'main.ts', to: 'config.ts', typeOnly: false });
  });

  it('has no circle between folders', () => {
    // util/ may name the Logger type while log.ts uses util/redact: a type-only arrow, sanctioned below.
    const g = graphOf(
      edges.filter((e) => !(roomOf(e.from) === 'util' && roomOf(e.to) === 'log' && e.typeOnly)),
      roomOf,
    );
    expect(cycles(g.keys(), (n) => g.get(n)!)).toEqual([]);
  });

  it('has no circle between files', () => {
    const g = graphOf(edges, (f) => f);
    expect(cycles(g.keys(), (n) => g.get(n)!)).toEqual([]);
  });

  it('never imports upward from the rooms below the job', () => {
    const bad = edges.filter((e) => LOWER.includes(roomOf(e.from)) && ABOVE.includes(roomOf(e.to)));
    expect(show(bad)).toEqual([]);
  });

  it('keeps the job room below the service: job/ never imports the worker, the app, the CLI or the servers', () => {
    const bad = edges.filter(
      (e) =>
        roomOf(e.from) === 'job' &&
        ['worker', 'app', 'main', 'demo', 'http', 'dev-orchestrator'].includes(roomOf(e.to)),
    );
    expect(show(bad)).toEqual([]);
  });

  it('keeps util/ at the bottom: it imports only util/, errors and the log types', () => {
    const bad = edges.filter(
      (e) =>
        roomOf(e.from) === 'util' &&
        !['util', 'errors'].includes(roomOf(e.to)) &&
        !(roomOf(e.to) === 'log' && e.typeOnly),
    );
    expect(show(bad)).toEqual([]);
  });

  it('lists only exceptions that still exist', () => {
    const stale = KNOWN_EXCEPTIONS.filter(
      (x) => !allEdges.some((e) => isException(e) && e.from === x.from && e.to.startsWith(x.to)),
    );
    expect(stale).toEqual([]);
  });
});
