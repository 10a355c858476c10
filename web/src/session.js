// Who is signed in: the token is validated with GET /v1/whoami (name, role, tenants). The role
// only shapes the page (which buttons are offered); the server's 403 is the authority.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { get } from './api.js';

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
  const me = await get('/v1/whoami', { tokenOverride: token, quiet401: true });
  return { name: me.name || '', role: me.role || null, tenants: me.tenants || [] };
}
