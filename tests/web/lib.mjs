// Shared by the dashboard browser tests: a real netledgerd in a temporary data directory, a small
// REST client for seeding it, and headless Chromium through playwright-core.
//
// Environment:
//   NETLEDGER_BIN   directory holding netledgerd (default: build/bin of the repository)
//   CHROMIUM        the browser (default: /usr/bin/chromium)
//   ARTIFACTS_DIR   where screenshots go
//   DASHBOARD_SERVE_DIST=1  development aid only: serve web/dist from this script (proxying /v1
//                   to netledgerd) for a netledgerd built without the embedded dashboard.

import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(REPO, 'web', 'package.json'));

export function loadPlaywright() {
  try {
    return require('playwright-core');
  } catch (err) {
    throw new Error(`playwright-core is not installed: run 'npm ci' in ${path.join(REPO, 'web')} (${err.message})`);
  }
}

export class TestFailure extends Error {}

export function fail(message) {
  throw new TestFailure(message);
}

export function expect(cond, message) {
  if (!cond) fail(message);
}

export function expectEqual(actual, expected, what) {
  if (String(actual) !== String(expected)) fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, { timeout = 10000, interval = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(interval);
  }
  fail(`timed out after ${timeout} ms waiting for ${what}${last ? ` (${last.message})` : ''}`);
}
export { waitFor };

/**
 * Starts netledgerd on 127.0.0.1 port 0 in a fresh data dir; resolves when it serves.
 * restart() stops it and starts it again on the same port and data (a client's reconnect).
 */
export async function startServer() {
  const binDir = path.resolve(REPO, process.env.NETLEDGER_BIN || 'build/bin');
  const bin = path.join(binDir, 'netledgerd');
  if (!existsSync(bin)) fail(`netledgerd not found at ${bin} (set NETLEDGER_BIN to the directory holding it)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netledger-web-'));
  const portFile = path.join(dir, 'port');
  let output = '';
  let proc = null;

  async function launch(listen) {
    rmSync(portFile, { force: true });
    const child = spawn(bin, ['--data-dir', dir, '--listen', listen, '--port-file', portFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const p = { child, exited: null };
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code, signal) => (p.exited = { code, signal }));
    proc = p;
    await waitFor(
      () => {
        if (p.exited) fail(`netledgerd exited early (${JSON.stringify(p.exited)}):\n${output}`);
        return existsSync(portFile) && readFileSync(portFile, 'utf8').trim() !== '' && existsSync(path.join(dir, 'admin.token'));
      },
      { timeout: 15000, what: 'netledgerd to write its port file' },
    );
    return Number(readFileSync(portFile, 'utf8').trim());
  }

  async function halt() {
    const p = proc;
    if (!p || p.exited) return;
    p.child.kill('SIGTERM');
    await waitFor(() => p.exited, { timeout: 5000, what: 'netledgerd to stop' }).catch(() => p.child.kill('SIGKILL'));
  }

  const port = await launch('127.0.0.1:0');
  const adminToken = readFileSync(path.join(dir, 'admin.token'), 'utf8').trim();
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    dir,
    adminToken,
    output: () => output,
    async restart() {
      await halt();
      await launch(`127.0.0.1:${port}`);
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A REST client bound to one server and token. Non-2xx answers reject unless `allow` lists them. */
export function client(base, token) {
  async function call(method, p, body, { allow = [], tokenOverride } = {}) {
    const res = await fetch(base + p, {
      method,
      headers: {
        Authorization: `Bearer ${tokenOverride || token}`,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    if (!res.ok && !allow.includes(res.status))
      fail(`${method} ${p} -> ${res.status}: ${typeof data === 'string' ? data : JSON.stringify(data)}`);
    return { status: res.status, data };
  }
  return {
    call,
    get: (p, o) => call('GET', p, undefined, o).then((r) => r.data),
    post: (p, b, o) => call('POST', p, b ?? {}, o).then((r) => r.data),
    del: (p, o) => call('DELETE', p, undefined, o).then((r) => r.data),
  };
}

/**
 * A bulk POST client for seeding: node:http with a keep-alive agent (cheaper per request than
 * fetch), `sockets` connections. post() resolves to the parsed body and rejects on non-2xx.
 */
export function bulkClient(base, token, sockets = 64) {
  const url = new URL(base);
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  const post = (p, body) =>
    new Promise((resolve, reject) => {
      const data = Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: p,
          method: 'POST',
          agent,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': data.length },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode >= 300) reject(new TestFailure(`POST ${p} -> ${res.statusCode}: ${text}`));
            else resolve(text ? JSON.parse(text) : null);
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  return { post, close: () => agent.destroy() };
}

/** Runs `fn(i)` for i in [0, n) with at most `width` in flight. */
export async function parallel(n, width, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(workers);
}

export function mac(prefixBytes, n) {
  const bytes = [...prefixBytes];
  const tail = [];
  let v = n;
  for (let i = 0; i < 6 - prefixBytes.length; i++) {
    tail.unshift(v & 255);
    v = Math.floor(v / 256);
  }
  return [...bytes, ...tail].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export async function launchBrowser() {
  const { chromium } = loadPlaywright();
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) fail(`Chromium not found at ${executablePath} (apt-get install chromium, or set CHROMIUM)`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--disable-extensions'],
  });
}

export function artifactsDir(defaultName) {
  const dir = path.resolve(REPO, process.env.ARTIFACTS_DIR || path.join('build', 'test-artifacts', defaultName));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Where the browser loads the dashboard: netledgerd's own / (the embedded assets). Fails clearly
 * when that binary has no dashboard, unless DASHBOARD_SERVE_DIST=1 asks for the development
 * stand-in that serves web/dist itself.
 */
export async function dashboardUrl(server) {
  const res = await fetch(`${server.base}/`);
  const type = res.headers.get('content-type') || '';
  const body = await res.text();
  if (res.ok && type.includes('text/html') && body.includes('<div id="app">')) return { url: `${server.base}/`, close: async () => {} };
  if (process.env.DASHBOARD_SERVE_DIST !== '1')
    fail(`netledgerd at ${server.base}/ does not serve the dashboard (HTTP ${res.status}, ${type}); build it with the embedded web/dist assets`);
  // The stand-in sends netledgerd's own security headers with the page (its CSP, above all), so
  // what the CSP forbids fails here too.
  const security = {};
  for (const h of ['content-security-policy', 'x-content-type-options', 'referrer-policy'])
    if (res.headers.get(h)) security[h] = res.headers.get(h);
  return serveDist(server.base, security);
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

async function serveDist(apiBase, security) {
  const dist = path.join(REPO, 'web', 'dist');
  if (!existsSync(path.join(dist, 'index.html'))) fail(`no ${dist}/index.html: run 'npm run build' in web/`);
  const api = new URL(apiBase);
  const srv = http.createServer((req, res) => {
    if (req.url.startsWith('/v1/')) {
      const up = http.request(
        { host: api.hostname, port: api.port, path: req.url, method: req.method, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
      res.on('close', () => up.destroy());
      return;
    }
    const rel = req.url === '/' ? 'index.html' : decodeURIComponent(req.url.split('?')[0]).replace(/^\/+/, '');
    const file = path.join(dist, path.normalize(rel));
    if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { ...security, 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  console.log(`note: DASHBOARD_SERVE_DIST=1: serving web/dist on port ${port} (netledgerd has no embedded dashboard)`);
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((r) => { srv.closeAllConnections?.(); srv.close(r); }),
  };
}
