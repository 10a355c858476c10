// Audit events (the same shape in GET /v1/audit and the event stream) as one line of text.

function bindingOf(ev) {
  return ev.after || ev.before || null;
}

export function opClass(op) {
  if (!op) return '';
  if (op.startsWith('conflict.')) return 'op-conflict';
  if (op.endsWith('allocate')) return 'op-allocate';
  if (op.endsWith('release')) return 'op-release';
  if (op.endsWith('expire')) return 'op-expire';
  return '';
}

/** A short human summary of what the event changed. */
export function describeEvent(ev) {
  const op = ev.op || '';
  const b = bindingOf(ev);
  if (op.startsWith('binding.') || op.startsWith('address.')) {
    if (!b) return ev.subject || '';
    const addrs = (b.addresses || []).join(', ');
    const parts = [b.instance && `${b.instance}${b.interface && b.interface !== 'eth0' ? `/${b.interface}` : ''}`];
    if (addrs) parts.push(addrs);
    if (b.mac) parts.push(b.mac);
    if (op === 'binding.migrate' && ev.before?.host !== ev.after?.host)
      parts.push(`${ev.before?.host || '?'} → ${ev.after?.host || '?'}`);
    else if (b.host) parts.push(`on ${b.host}`);
    return parts.filter(Boolean).join(' · ');
  }
  if (op.startsWith('conflict.')) {
    if (!b) return ev.subject || '';
    const where = b.ip || b.mac ? [b.ip, b.mac] : [b.pool && `pool ${b.pool}`];
    return [b.kind && b.kind.replace(/_/g, ' '), b.severity, ...where].filter(Boolean).join(' · ');
  }
  if (op.startsWith('portmap.')) {
    if (!b) return ev.subject || '';
    const ports = b.host_port === b.host_port_end ? `${b.host_port}` : `${b.host_port}-${b.host_port_end}`;
    return [`${b.protocol} ${b.host_address || '*'}:${ports} → ${b.instance || `binding ${b.binding_id}`}:${b.port}`, `on ${b.node}`].join(' · ');
  }
  if (op.startsWith('pool.')) {
    if (!b) return ev.subject || '';
    return [b.name, (b.cidrs || []).join(', ')].filter(Boolean).join(' · ');
  }
  return ev.subject || '';
}

/** Where the event's subject lives in the dashboard, if anywhere. */
export function subjectHref(subject) {
  if (!subject) return null;
  const [kind, id] = String(subject).split(/:(.*)/s);
  if (!id) return null;
  if (kind === 'binding') return `#/bindings/${encodeURIComponent(id)}`;
  if (kind === 'conflict') return `#/conflicts?id=${encodeURIComponent(id)}`;
  if (kind === 'pool') return `#/pools/${encodeURIComponent(id)}`;
  if (kind === 'portmap') return '#/portmaps';
  return null;
}
