// Every request body the OpenAPI document describes, refused the same way by the real server:
// for each operation (from a valid base body below) and each top-level property the document
// declares, a repeated key, an unknown field (where additionalProperties is false), null (where
// the property is not nullable), a fraction (integers), control characters (free text) must
// each be a 400 whose detail names the field. The document drives the cases, so a property
// added to it is tested without touching this file; an operation with a body and no base body
// here fails the test.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deref, loadDocument } from './lib.mjs';

const bin = process.env.NETLEDGER_BIN;
if (!bin) {
  console.error('NETLEDGER_BIN must name the directory holding netledgerd');
  process.exit(2);
}
const doc = loadDocument();
const dir = mkdtempSync(join(tmpdir(), 'netledger-contract-'));
const token = 'contract-admin-token';
const daemon = spawn(join(bin, 'netledgerd'),
                     ['--listen', '127.0.0.1:0', '--data-dir', dir, '--port-file', join(dir, 'port')],
                     { env: { ...process.env, NETLEDGER_BOOTSTRAP_TOKEN: token }, stdio: 'ignore' });
let base;
try {
  for (let i = 0; i < 500 && !existsSync(join(dir, 'port')); i++) await sleep(20);
  base = `http://127.0.0.1:${readFileSync(join(dir, 'port'), 'utf8').trim()}`;
  process.exitCode = await run();
} finally {
  daemon.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function call(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

async function seed() {
  const must = async (method, path, body) => {
    const r = await call(method, path, body);
    if (r.status >= 300) throw new Error(`seed ${method} ${path}: ${r.status} ${r.text}`);
    return r.json;
  };
  await must('POST', '/v1/pools', { name: 'p', cidr: '192.0.2.0/24' });
  await must('POST', '/v1/mac-pools', { name: 'm', prefix: '02:10:00:00:00:00/24' });
  const b = await must('POST', '/v1/bindings', { instance: 'vm1', pool: 'p', mac_pool: 'm' });
  await must('POST', '/v1/observations', { observations: [
    { ip: '192.0.2.200', mac: '02:00:00:00:aa:01', kind: 'reply' },
    { ip: '192.0.2.200', mac: '02:00:00:00:bb:02', kind: 'announcement' }] });
  let conflict;
  for (let i = 0; i < 200 && !conflict; i++) {
    conflict = (await call('GET', '/v1/conflicts')).json.items[0];
    if (!conflict) await sleep(25);
  }
  if (!conflict) throw new Error('seed: no conflict appeared');
  return { binding: b.id, address: b.addresses[0], conflict: conflict.id };
}

// A valid body for each operation: the mutations below change one field of it at a time.
function baseBodies(s) {
  return {
    'POST /v1/pools': { name: 'q1', cidr: '198.51.100.0/24', dhcp: { lease_s: 600 } },
    'PATCH /v1/pools/{name}': { cluster: 'c1' },
    'POST /v1/mac-pools': { name: 'm2', prefix: '02:20:00:00:00:00/24' },
    'POST /v1/bindings': { instance: 'vm9', pool: 'p' },
    'PATCH /v1/bindings/{id}': { host: 'h2' },
    'POST /v1/bindings/{id}/renew': { ttl_s: 60 },
    'POST /v1/bindings/{id}/migrate': { host: 'h3' },
    'POST /v1/bindings/{id}/probe': { address: s.address, result: 'free' },
    'POST /v1/addresses/{ip}/move': { to: 'vm1' },
    'POST /v1/tokens': { name: 't1' },
    'POST /v1/observations': {
      observations: [{ ip: '192.0.2.150', mac: '02:00:00:00:cc:01', host: 'node-1' }],
    },
    'POST /v1/conflicts/{id}/ack': { note: 'seen' },
    'POST /v1/conflicts/{id}/resolve': { note: 'fixed' },
    'PUT /v1/policies': { duplicate_ip: 'alert' },
    'POST /v1/webhooks': { url: 'http://127.0.0.1:9/hook', events: ['binding.*'] },
    'POST /v1/scans': { pool: 'p', via: 'node-1' },
    'POST /v1/scans/{id}/result': {
      probed: 1, answered: [{ ip: '192.0.2.151', mac: '02:00:00:00:cc:02' }],
    },
    'POST /v1/portmaps': { binding_id: Number(s.binding), port: 80 },
    'PUT /v1/portranges/{node}': { first: 30000, last: 30100 },
    'PUT /v1/hosts/{host}/enforcement': { ok: true },
    'POST /v1/check/fix': { dry_run: true },
  };
}

function pathFor(template, s) {
  const values = { name: 'p', id: null, ip: s.address, host: 'node-1', node: 'node-1' };
  return template.replace(/\{(\w+)\}/g, (_, p) => {
    if (p !== 'id') return encodeURIComponent(values[p]);
    if (template.startsWith('/v1/conflicts')) return s.conflict;
    if (template.startsWith('/v1/scans')) return '1';
    return s.binding;
  });
}

function names(detail, field) {
  return typeof detail === 'string' &&
         (detail.includes(`${field}:`) || detail.includes(`${field}.`) ||
          detail.includes(`${field}[`) || detail.includes(`"${field}"`));
}

// The value-class cases for each property of `schema`, set into a copy of `base` through
// `wrap` (which puts an object where the schema applies: the body itself, body.dhcp,
// body.observations[0], ...). Objects and arrays of objects are followed one level down when the
// base body holds one; a property shape with no case here fails the test, so none is skipped
// silently.
async function mutateProperties(schema, base, wrap, M, path, expect400, depth = 0) {
  const at = (field, value) => wrap({ ...base, [field]: value });
  if (depth > 0 && schema.additionalProperties === false) {
    await expect400('unknown nested field', M, path, wrap({ ...base, zz_unknown: 1 }), 'zz_unknown');
  }
  for (const [field, raw] of Object.entries(schema.properties || {})) {
    const prop = deref(doc, raw);
    const branches = (prop.anyOf || prop.oneOf || prop.allOf || []).map((b) => deref(doc, b));
    const nullable = prop.nullable || branches.some((b) => b.nullable);
    if (!nullable) await expect400('null', M, path, at(field, null), field);
    const type = prop.type || (branches.length ? 'composite' : undefined);
    if (type === 'integer') {
      await expect400('fraction', M, path, at(field, 1.5), field);
      const text = JSON.stringify(at(field, 123456789));
      await expect400('exponent', M, path, text.replace('123456789', '1e-400'), field);
    } else if (type === 'string' && !prop.enum) {
      await expect400('control character', M, path, at(field, 'a\u001bb'), field);
    } else if (type === 'array') {
      const items = deref(doc, prop.items || {});
      if (items.type === 'string') {
        await expect400('control character in an item', M, path, at(field, ['a\u0000b']), field);
      } else if (items.type === 'object' && depth === 0 && Array.isArray(base[field]) &&
                 base[field].length > 0) {
        await mutateProperties(items, base[field][0],
                               (item) => at(field, [item, ...base[field].slice(1)]), M, path,
                               expect400, depth + 1);
      }
    } else if ((type === 'object' || type === 'composite') && depth === 0 &&
               base[field] && typeof base[field] === 'object' && !Array.isArray(base[field])) {
      const target = prop.properties ? prop : branches.find((b) => b.properties) || prop;
      await mutateProperties(target, base[field], (inner) => at(field, inner), M, path,
                             expect400, depth + 1);
    } else if (!['boolean', 'number', 'object', 'composite', 'string', 'array'].includes(type)) {
      throw new Error(`${M} ${path}: property ${field} has a shape this test does not know`);
    }
  }
}

async function run() {
  const s = await seed();
  const bases = baseBodies(s);
  const failures = [];
  let cases = 0;
  const expect400 = async (label, method, path, body, field) => {
    cases++;
    const r = await call(method, path, body);
    const detail = r.json && r.json.detail;
    if (r.status !== 400 || !names(detail, field)) {
      failures.push(`${label}: ${method} ${path} ${String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 120)} -> ${r.status} ${r.text.slice(0, 160)}`);
    }
  };
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const media = op && op.requestBody && op.requestBody.content['application/json'];
      if (!media) continue;
      const key = `${method.toUpperCase()} ${template}`;
      const baseBody = bases[key];
      if (!baseBody) {
        failures.push(`${key}: no base body in inputs_test.mjs`);
        continue;
      }
      const schema = deref(doc, media.schema);
      const path = pathFor(template, s);
      const M = method.toUpperCase();
      if (schema.additionalProperties === false) {
        await expect400('unknown field', M, path, { ...baseBody, zz_unknown: 1 }, 'zz_unknown');
      }
      const firstKey = Object.keys(baseBody)[0];
      const dupText = `{"${firstKey}":${JSON.stringify(baseBody[firstKey])},` +
                      JSON.stringify(baseBody).slice(1);
      await expect400('duplicate key', M, path, dupText, firstKey);
      await mutateProperties(schema, baseBody, (b) => b, M, path, expect400);
    }
  }
  console.log(`${cases} cases`);
  for (const f of failures) console.log(f);
  console.log(`${failures.length} failures`);
  return failures.length ? 1 : 0;
}
