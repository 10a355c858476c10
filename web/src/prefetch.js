// Requests started before they are needed: on a page load with a token, the overview's data is
// fetched alongside the token check (whoami), so the overview can render with data on its first
// render instead of mounting empty and fetching afterwards.
import { get, getToken } from './api.js';

const pending = new Map();

export function prefetch(path, opts = { quiet401: true }) {
  const existing = current(path);
  if (existing) return existing.promise;
  // Tied to the token it was made with: after signing in again (another token, maybe another
  // tenant) nothing of the old session is handed out.
  const entry = { done: false, value: undefined, failed: false, token: getToken() };
  entry.promise = get(path, opts).then(
    (v) => {
      entry.done = true;
      entry.value = v;
      return v;
    },
    (err) => {
      entry.failed = true;
      if (pending.get(path) === entry) pending.delete(path); // a failure is never served later
      throw err;
    },
  );
  entry.promise.catch(() => {}); // an unused prefetch must not report an unhandled rejection
  pending.set(path, entry);
  return entry.promise;
}

/** The entry for `path` made with the current token (one made with another is dropped). */
function current(path) {
  const e = pending.get(path);
  if (e && e.token !== getToken()) {
    pending.delete(path);
    return undefined;
  }
  return e;
}

/** The prefetched value if it has already arrived (and consumes it), else undefined. */
export function takeIfReady(path) {
  const e = current(path);
  if (!e || !e.done) return undefined;
  pending.delete(path);
  return e.value;
}

/** The prefetched response for `path` (once), else a fresh GET. */
export function getPrefetched(path) {
  const e = current(path);
  if (e) {
    pending.delete(path);
    return e.promise;
  }
  return get(path);
}
