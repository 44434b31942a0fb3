import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';

type Schema = {
  $ref?: string;
  allOf?: Schema[];
  type?: string;
  example?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  required?: string[];
};
type Op = {
  operationId: string;
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; example?: unknown; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
};
type Doc = {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Op>>;
  components: { schemas: Record<string, Schema> };
};

const root = path.join(__dirname, '..');
export const COLLECTION = path.join(root, 'docs', 'postman', 'mas-api.postman_collection.json');

/** An example body assembled from the schema's property examples. */
function example(s: Schema, doc: Doc, depth = 0): unknown {
  if (s.$ref) return example(doc.components.schemas[s.$ref.split('/').pop()!], doc, depth);
  if (s.example !== undefined) return s.example;
  if (s.allOf?.length) return example(s.allOf[0], doc, depth);
  if (depth > 6) return undefined;
  if (s.type === 'array' && s.items) return [example(s.items, doc, depth + 1)];
  if (s.properties)
    return Object.fromEntries(
      Object.entries(s.properties)
        .map(([k, v]) => [k, example(v, doc, depth + 1)])
        .filter(([, v]) => v !== undefined),
    );
  return undefined;
}

/** Converts openapi.yaml into a Postman v2.1 collection: one folder per tag, `{{baseUrl}}` variable. */
export function renderPostman(): string {
  const doc = yaml.load(readFileSync(path.join(root, 'openapi.yaml'), 'utf8')) as Doc;
  const folders = new Map<string, unknown[]>();
  for (const [p, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const segments = p
        .split('/')
        .filter(Boolean)
        .map((x) => x.replace(/^\{(.+)\}$/, ':$1'));
      const vars = (op.parameters ?? [])
        .filter((x) => x.in === 'path')
        .map((x) => ({ key: x.name, value: String(x.example ?? '') }));
      const query = (op.parameters ?? [])
        .filter((x) => x.in === 'query')
        .map((x) => ({ key: x.name, value: '', disabled: true }));
      const body = op.requestBody?.content['application/json']?.schema;
      const item = {
        name: op.summary ?? op.operationId,
        request: {
          method: method.toUpperCase(),
          header: body ? [{ key: 'Content-Type', value: 'application/json' }] : [],
          url: {
            raw: `{{baseUrl}}/${segments.join('/')}`,
            host: ['{{baseUrl}}'],
            path: segments,
            ...(vars.length ? { variable: vars } : {}),
            ...(query.length ? { query } : {}),
          },
          ...(body
            ? {
                body: {
                  mode: 'raw',
                  raw: JSON.stringify(example(body, doc) ?? {}, null, 2),
                  options: { raw: { language: 'json' } },
                },
              }
            : {}),
        },
      };
      const tag = op.tags?.[0] ?? 'Other';
      folders.set(tag, [...(folders.get(tag) ?? []), item]);
    }
  }
  const collection = {
    info: {
      name: `${doc.info.title} ${doc.info.version}`,
      description: `Generated from openapi.yaml by scripts/postman.ts; do not edit.`,
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    variable: [{ key: 'baseUrl', value: 'http://localhost:8765' }],
    item: [...folders].map(([name, item]) => ({ name, item })),
  };
  return `${JSON.stringify(collection, null, 2)}\n`;
}

if (require.main === module) {
  const text = renderPostman();
  if (process.argv.includes('--check')) {
    if (readFileSync(COLLECTION, 'utf8') !== text) {
      console.error('docs/postman collection is out of date: run `npm run postman`');
      process.exit(1);
    }
  } else writeFileSync(COLLECTION, text);
}
