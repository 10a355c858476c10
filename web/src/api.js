// The REST client: every call carries the session's bearer token; a 401 anywhere ends the
// session (the app returns to sign-in); errors are RFC 9457 problem documents.

const TOKEN_KEY = 'netledger.token';

let token = null;
try {
  token = sessionStorage.getItem(TOKEN_KEY);
} catch {
  token = null;
}

const unauthorizedListeners = new Set();

export function getToken() {
  return token;
}

export function setToken(value) {
  token = value || null;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage can be disabled; the token then lives for this page only.
  }
}

export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Ends the session everywhere (a 401 seen outside api(), e.g. by the event stream). */
export function notifyUnauthorized() {
  for (const l of unauthorizedListeners) l();
}

export class ApiError extends Error {
  constructor(status, problem, path) {
    const detail = problem?.detail || problem?.title || `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.code = problem?.code || (status === 0 ? 'network' : `http_${status}`);
    this.title = problem?.title || '';
    this.problem = problem;
    this.path = path;
  }
}

export function authHeaders(extra) {
  const headers = { Accept: 'application/json', ...extra };
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

/** Builds a query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Calls the API. Resolves to the parsed JSON body; rejects with an ApiError. A 401 notifies
 * the session (unless opts.quiet401, used by sign-in to validate a candidate token).
 */
export async function api(path, opts = {}) {
  const { method = 'GET', body, signal, tokenOverride, quiet401 } = opts;
  const headers = authHeaders(body !== undefined ? { 'Content-Type': 'application/json' } : {});
  if (tokenOverride) headers.Authorization = `Bearer ${tokenOverride}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal,
    });
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, { title: 'Network error', detail: `cannot reach the server (${err?.message || err})` }, path);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text.slice(0, 200) };
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !quiet401) notifyUnauthorized();
    throw new ApiError(res.status, data, path);
  }
  return data;
}

export const get = (path, opts) => api(path, { ...opts, method: 'GET' });
export const post = (path, body, opts) => api(path, { ...opts, method: 'POST', body });
