// Shared by the contract tests: the OpenAPI document and the tools the web/ package installs
// (@redocly/cli, @apidevtools/swagger-parser, ajv), found through web/package.json.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// OPENAPI_DOCUMENT: another document (to see a test fail on a broken copy).
export const documentPath =
    process.env.OPENAPI_DOCUMENT || join(root, 'docs', 'api', 'openapi.json');
export const webRequire = createRequire(join(root, 'web', 'package.json'));

export function loadDocument() {
  return JSON.parse(readFileSync(documentPath, 'utf8'));
}

// JSON pointer escaping (RFC 6901) of one reference token.
export function pointerToken(s) {
  return String(s).replaceAll('~', '~0').replaceAll('/', '~1');
}

// The document object a local "$ref" ("#/components/responses/X") points at.
export function deref(doc, node) {
  while (node && node.$ref) {
    node = node.$ref.slice(2).split('/').reduce(
        (o, t) => o[t.replaceAll('~1', '/').replaceAll('~0', '~')], doc);
  }
  return node;
}

// [{method, template, regex, op}] for every operation, literal segments before parameters so
// "/v1/pools/stats" wins over "/v1/pools/{name}" as the router does.
export function operations(doc) {
  const ops = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'delete', 'patch', 'head'].includes(method)) continue;
      const source = template.split('/').map(
          (seg) => (/^\{.+\}$/.test(seg) ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      ops.push({
        method: method.toUpperCase(), template, op,
        regex: new RegExp('^' + source.join('/') + '$'),
        params: (template.match(/\{/g) || []).length,
      });
    }
  }
  return ops.sort((a, b) => a.params - b.params);
}

export function mediaType(contentType) {
  return String(contentType).split(';')[0].trim().toLowerCase();
}
