// Every netledgerd response the integration suite read (tests/integration/harness.cc records
// them into the directory given as argv[2]) checked against docs/api/openapi.json with ajv:
// the path and method are documented, the status is one the operation lists, the media type is
// the one it declares, and a JSON body validates against its schema, where an object schema
// with declared properties admits no undeclared field (so every field the server sends is in
// the document). Exits 1 listing each kind of mismatch once, with an example.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deref, loadDocument, mediaType, operations, pointerToken, webRequire } from './lib.mjs';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: responses_test.mjs <directory of recorded .jsonl responses>');
  process.exit(2);
}
const doc = loadDocument();
const ops = operations(doc);

// Response schemas are closed: an undeclared field is a finding, not something to ignore.
// unevaluatedProperties (JSON Schema 2019-09) sees through allOf and $ref, so it is put where a
// schema is used (beside each $ref, on each inline object) and never on the parts an allOf
// combines, which each see only their own properties.
function closeObjects(node, isAllOfPart = false) {
  if (Array.isArray(node)) return node.forEach((n) => closeObjects(n, isAllOfPart));
  if (!node || typeof node !== 'object') return;
  const open = node.additionalProperties !== undefined || node.anyOf || node.oneOf;
  if (!isAllOfPart && !open && (node.$ref || node.properties || node.allOf)) {
    node.unevaluatedProperties = false;
  }
  for (const [key, value] of Object.entries(node)) closeObjects(value, key === 'allOf');
}
const closed = structuredClone(doc);
// A component is closed where it is used; its own properties' schemas are closed here.
for (const schema of Object.values(closed.components.schemas)) {
  for (const [key, value] of Object.entries(schema)) closeObjects(value, key === 'allOf');
}
closeObjects(closed.components.responses);
closeObjects(closed.paths);
closed.$id = 'openapi';

const Ajv = webRequire('ajv/dist/2019').default;
const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
ajv.addSchema(closed);
const validators = new Map();
function validatorFor(pointer) {
  if (!validators.has(pointer)) validators.set(pointer, ajv.compile({ $ref: 'openapi#' + pointer }));
  return validators.get(pointer);
}

function findOperation(method, path) {
  const wanted = method === 'HEAD' ? 'GET' : method;
  let pathKnown = false;
  for (const o of ops) {
    if (!o.regex.test(path)) continue;
    pathKnown = true;
    if (o.method === wanted) return { o };
  }
  return { pathKnown };
}

// Where the response object sits in the document, for the schema's JSON pointer.
function responsePointer(o, status) {
  const responses = o.op.responses || {};
  const key = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => responses[k]);
  if (!key) return null;
  const response = responses[key];
  if (response.$ref) return { pointer: response.$ref.slice(1), key };
  return {
    pointer: `/paths/${pointerToken(o.template)}/${o.method.toLowerCase()}/responses/${key}`, key,
  };
}

// One finding per (kind, route, status): the suite repeats requests.
const findings = new Map();
function finding(kind, rec, detail) {
  const route = `${rec.method} ${rec.template || rec.target.split('?')[0]} ${rec.status}`;
  const k = `${kind}|${route}`;
  if (!findings.has(k)) findings.set(k, `${kind}: ${route}: ${detail} (e.g. ${rec.target})`);
}

function checkBody(rec, response, pointer) {
  const content = response.content;
  if (!content) {
    if (rec.body.length && rec.method !== 'HEAD') finding('undocumented body', rec, rec.content_type);
    return;
  }
  const got = mediaType(rec.content_type);
  const key = Object.keys(content).find((m) => mediaType(m) === got);
  if (!key) {
    finding('content type', rec, `sent ${rec.content_type}, document says ${Object.keys(content)}`);
    return;
  }
  if (rec.method === 'HEAD' || rec.truncated || !/json$/.test(got) || !content[key].schema) return;
  let body;
  try {
    body = JSON.parse(rec.body);
  } catch (e) {
    finding('not JSON', rec, e.message);
    return;
  }
  const validate = validatorFor(`${pointer}/content/${pointerToken(key)}/schema`);
  if (!validate(body)) {
    const e = validate.errors[0];
    finding('schema', rec, `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  }
}

let count = 0;
const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
for (const file of files) {
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    if (!line) continue;
    const rec = JSON.parse(line);
    count++;
    const path = rec.target.split('?')[0];
    const { o, pathKnown } = findOperation(rec.method, path);
    if (!o) {
      // 404 for a path no route has and 405 for a known one are the router's answers; a 404
      // from a handler on an undocumented path is a finding.
      const routerAnswer = rec.status === 405 ||
          (rec.status === 404 && /"detail":"no resource at /.test(rec.body));
      if ((!pathKnown && routerAnswer) || (pathKnown && rec.status === 405)) continue;
      finding(pathKnown ? 'undocumented method' : 'undocumented path', rec, '');
      continue;
    }
    rec.template = o.template;
    const where = responsePointer(o, rec.status);
    if (!where) {
      finding('undocumented status', rec, `documented: ${Object.keys(o.op.responses)}`);
      continue;
    }
    checkBody(rec, deref(doc, o.op.responses[where.key]), where.pointer);
  }
}
console.log(`${count} responses from ${files.length} files checked`);
if (count === 0) {
  console.error('no recorded responses: did the integration tests run (and record)?');
  process.exit(1);
}
for (const f of [...findings.values()].sort()) console.log(f);
console.log(`${findings.size} mismatches`);
process.exit(findings.size ? 1 : 0);
