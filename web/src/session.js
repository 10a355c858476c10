// Who is signed in: the token is validated with GET /v1/whoami (name, role, tenants). A server
// without whoami (404) still accepts the token if it can read the pools; the role is then
// unknown and the server's 403 is the authority on what the token may do.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { ApiError, get } from './api.js';

export const SessionContext = createContext({ name: '', role: null, tenants: [] });

export function useSession() {
  return useContext(SessionContext);
}

const RANK = { viewer: 1, operator: 2, admin: 3 };

/** True if the role may do what needs `min`; null (unknown) when the server did not say. */
export function roleAtLeast(role, min) {
  if (!role || !(role in RANK)) return null;
  return RANK[role] >= RANK[min];
}

export async function validateToken(token) {
  try {
    const me = await get('/v1/whoami', { tokenOverride: token, quiet401: true });
    return { name: me.name || '', role: me.role || null, tenants: me.tenants || [] };
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  await get('/v1/pools', { tokenOverride: token, quiet401: true });
  return { name: '', role: null, tenants: [] };
}
