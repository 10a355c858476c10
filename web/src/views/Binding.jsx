// A binding and its story: details, who held its addresses over time, and a timeline of every
// event touching its addresses, its MAC or its instance, with the conflicts that involved them.
import { useEffect, useState } from 'preact/hooks';
import { get, query } from '../api.js';
import { BindingState, ErrorBox, SeverityBadge, StatusBadge, useApi, KeyValues } from '../components/common.jsx';
import { fmtAgo, fmtTime, humanKind } from '../util.js';
import { PortMapTable } from './PortMaps.jsx';

function opKind(op) {
  if (!op) return '';
  if (op.endsWith('allocate') || op.endsWith('reassign')) return 'k-allocate';
  if (op.endsWith('release')) return 'k-release';
  if (op.endsWith('expire')) return 'k-expire';
  if (op.endsWith('migrate')) return 'k-migrate';
  if (op.includes('move')) return 'k-move';
  return '';
}

const OP_WORDS = {
  'binding.allocate': 'allocated',
  'binding.release': 'released',
  'binding.expire': 'expired',
  'binding.migrate': 'migrated',
  'binding.update': 'updated',
  'binding.renew': 'renewed',
  'binding.reassign': 'reassigned',
  'address.move': 'address moved',
};

/** Loads the history of every key and the conflicts of every address; merges them by time. */
async function loadStory(binding) {
  const keys = [
    ...(binding.addresses || []).map((ip) => ['ip', ip]),
    ...(binding.mac ? [['mac', binding.mac]] : []),
    ['instance', binding.instance],
  ];
  const histories = await Promise.all(
    keys.map(([k, v]) =>
      get(`/v1/history${query({ [k]: v })}`).then(
        (h) => ({ key: `${k}:${v}`, kind: k, value: v, entries: h.entries || [] }),
        (error) => ({ key: `${k}:${v}`, kind: k, value: v, entries: [], error }),
      ),
    ),
  );
  const conflictQueries = [
    ...(binding.addresses || []).map((ip) => ({ ip })),
    { binding_id: binding.id },
    ...(binding.mac ? [{ mac: binding.mac }] : []),
  ];
  const conflictLists = await Promise.all(
    conflictQueries.map((q) =>
      get(`/v1/conflicts${query(q)}`).then(
        (r) => r.items || [],
        () => [],
      ),
    ),
  );
  const conflicts = new Map();
  for (const c of conflictLists.flat()) conflicts.set(c.id, c);
  return { histories, conflicts: [...conflicts.values()] };
}

function timelineItems(story, bindingId) {
  const bySeq = new Map();
  for (const h of story.histories) {
    for (const e of h.entries) {
      const prev = bySeq.get(e.seq);
      if (prev) prev.keys.add(h.key);
      else bySeq.set(e.seq, { type: 'event', e, keys: new Set([h.key]), time: e.time });
    }
  }
  const items = [...bySeq.values()];
  for (const c of story.conflicts) items.push({ type: 'conflict', c, time: c.first_seen });
  items.sort((a, b) => new Date(b.time) - new Date(a.time) || (b.e?.seq || 0) - (a.e?.seq || 0));
  return items.map((it) => ({ ...it, self: it.type === 'event' && String(it.e.binding_id) === String(bindingId) }));
}

/** Holder segments of one address from its history (oldest first). */
export function holderSegments(entries, now = Date.now()) {
  const segs = [];
  let cur = null;
  const close = (t) => {
    if (cur) {
      cur.end = t;
      segs.push(cur);
      cur = null;
    }
  };
  for (const e of entries) {
    const t = new Date(e.time).getTime();
    if (e.holds) {
      if (!cur || String(cur.binding_id) !== String(e.binding_id)) {
        close(t);
        cur = { binding_id: e.binding_id, instance: e.instance, host: e.host, mac: e.mac, start: new Date(e.since || e.time).getTime() };
      } else {
        cur.host = e.host;
        cur.mac = e.mac;
      }
    } else if (cur && String(cur.binding_id) === String(e.binding_id)) close(t);
  }
  if (cur) {
    cur.end = now;
    cur.open = true;
    segs.push(cur);
  }
  return segs;
}

function Holders({ story, bindingId }) {
  const ips = story.histories.filter((h) => h.kind === 'ip');
  if (!ips.length) return null;
  const now = Date.now();
  const all = ips.map((h) => ({ ip: h.value, segs: holderSegments(h.entries, now) }));
  const t0 = Math.min(now - 60000, ...all.flatMap((a) => a.segs.map((s) => s.start)));
  const span = Math.max(1, now - t0);
  return (
    <section class="panel" aria-labelledby="holders-title">
      <h2 id="holders-title">Holders over time</h2>
      <div class="holders" data-testid="holders">
        {all.map((a) => (
          <div class="holder-row">
            <span class="mono">{a.ip}</span>
            <div class="holder-track">
              {a.segs.map((s) => (
                <a
                  class={`holder-seg ${String(s.binding_id) === String(bindingId) ? '' : 'other'}`}
                  href={`#/bindings/${encodeURIComponent(s.binding_id)}`}
                  style={{ left: `${((s.start - t0) / span) * 100}%`, width: `${Math.max(0.6, ((s.end - s.start) / span) * 100)}%` }}
                  title={`${s.instance} (${s.mac || 'no MAC'}) on ${s.host || '?'}: ${fmtTime(new Date(s.start).toISOString())} → ${s.open ? 'now' : fmtTime(new Date(s.end).toISOString())}`}
                >
                  {s.instance}
                </a>
              ))}
            </div>
          </div>
        ))}
        <div class="holder-row faint">
          <span />
          <div style={{ display: 'flex', justifyContent: 'space-between', fontSize: '11px' }}>
            <span>{fmtTime(new Date(t0).toISOString())}</span>
            <span>now</span>
          </div>
        </div>
      </div>
    </section>
  );
}

function EventItem({ it }) {
  const e = it.e;
  const word = OP_WORDS[e.op] || e.op;
  return (
    <li class={opKind(e.op)} data-testid="timeline-item" data-op={e.op}>
      <div class="when" title={e.time}>
        {fmtTime(e.time)} · {e.actor}
      </div>
      <div class="what">
        {word}{' '}
        {it.self ? (
          <span>{e.instance}</span>
        ) : (
          <a href={`#/bindings/${encodeURIComponent(e.binding_id)}`} title="another binding">
            {e.instance} (binding {e.binding_id})
          </a>
        )}
        {e.interface && e.interface !== 'eth0' ? <span class="muted">/{e.interface}</span> : null}
      </div>
      <div class="detail">
        {(e.addresses || []).join(', ')}
        {e.mac ? <> · <span class="mono">{e.mac}</span></> : null}
        {e.host ? <> · on {e.host}</> : null}
        {e.holds === false ? ' · no longer holds it' : ''}
      </div>
    </li>
  );
}

function ConflictItem({ c }) {
  return (
    <li class="k-conflict" data-testid="timeline-item" data-op="conflict">
      <div class="when">
        {fmtTime(c.first_seen)}
        {c.count > 1 ? ` · seen ${c.count}× until ${fmtTime(c.last_seen)}` : ''}
      </div>
      <div class="what">
        <a href={`#/conflicts?id=${encodeURIComponent(c.id)}`}>conflict #{c.id}: {humanKind(c.kind)}</a>{' '}
        <SeverityBadge severity={c.severity} /> <StatusBadge status={c.status} />
      </div>
      <div class="detail">{c.message}</div>
    </li>
  );
}

function Details({ b }) {
  const rows = [
    ['Instance', <b>{b.instance}</b>],
    ['Interface', b.interface],
    ['State', <BindingState state={b.state} />],
    [
      'Addresses',
      (b.address_pools || []).length
        ? b.address_pools.map((a, i) => (
            <>
              {i ? ', ' : ''}
              <span class="mono">{a.ip}</span>
              {a.pool ? (
                <span class="muted">
                  {' '}
                  (<a href={`#/pools/${encodeURIComponent(a.pool)}`}>{a.pool}</a>)
                </span>
              ) : null}
            </>
          ))
        : (b.addresses || []).join(', ') || 'none',
    ],
    [
      'MAC',
      b.mac ? (
        <>
          <span class="mono">{b.mac}</span>
          {b.mac_vendor && (b.mac_vendor.organization || b.mac_vendor.virtual) ? (
            <span class="muted"> · {b.mac_vendor.organization || b.mac_vendor.virtual}</span>
          ) : null}
        </>
      ) : (
        '–'
      ),
    ],
    ['Host', b.host || '–'],
  ];
  if (b.host_mac) rows.push(['Host NIC', <span class="mono">{b.host_mac}</span>]);
  if (b.service) rows.push(['Service', b.service]);
  if (b.tenant) rows.push(['Tenant', b.tenant]);
  const labels = Object.entries(b.labels || {});
  if (labels.length) rows.push(['Labels', labels.map(([k, v]) => `${k}=${v}`).join(', ')]);
  rows.push(['Static', b.static ? 'yes (pinned)' : 'no']);
  rows.push(['Lease', b.expires_at ? `expires ${fmtTime(b.expires_at)} (${fmtAgo(b.expires_at)})` : 'no expiry']);
  rows.push(['Created', `${fmtTime(b.created_at)} (${fmtAgo(b.created_at)})`]);
  rows.push(['Updated', `${fmtTime(b.updated_at)} · version ${b.version}`]);
  return (
    <section class="panel" aria-labelledby="binding-title">
      <h2 id="binding-title">Binding {b.id}</h2>
      <KeyValues rows={rows} testid="binding-details" />
    </section>
  );
}

function PortMapsOf({ id }) {
  const maps = useApi(`/v1/portmaps${query({ binding_id: id })}`);
  const items = maps.data?.items || [];
  if (!maps.error && !items.length) return null;
  return (
    <section class="panel" aria-labelledby="binding-portmaps-title" data-testid="binding-portmaps">
      <h2 id="binding-portmaps-title">Port maps</h2>
      <ErrorBox error={maps.error} what="the port mappings" />
      <PortMapTable items={items} showBinding={false} />
    </section>
  );
}

export function BindingView({ id }) {
  const binding = useApi(`/v1/bindings/${encodeURIComponent(id)}`);
  const [story, setStory] = useState(null);
  const [storyError, setStoryError] = useState(null);

  useEffect(() => {
    setStory(null);
    if (!binding.data) return;
    let cancelled = false;
    loadStory(binding.data).then(
      (s) => !cancelled && setStory(s),
      (e) => !cancelled && setStoryError(e),
    );
    return () => {
      cancelled = true;
    };
  }, [binding.data]);

  const b = binding.data;
  const items = story ? timelineItems(story, id) : [];
  return (
    <div data-testid="binding-view">
      <div class="page-head">
        <h1>{b ? `${b.instance}${b.interface ? ` / ${b.interface}` : ''}` : `Binding ${id}`}</h1>
        {b ? <span class="sub mono">{(b.addresses || []).join(', ')}</span> : null}
        <div class="spacer" />
        <a href="#/search">← search</a>
      </div>
      <ErrorBox error={binding.error} what={`binding ${id}`} />
      {b ? (
        <div class="grid-2">
          <div class="stack">
            <Details b={b} />
            <PortMapsOf id={id} />
            {story ? <Holders story={story} bindingId={id} /> : null}
          </div>
          <section class="panel" aria-labelledby="timeline-title">
            <h2 id="timeline-title">History</h2>
            <ErrorBox error={storyError} what="the history" />
            {story?.histories.filter((h) => h.error).map((h) => <ErrorBox error={h.error} what={`the history of ${h.key}`} />)}
            {!story && !storyError ? <div class="loading">Loading the history…</div> : null}
            {story && !items.length ? <div class="empty">No recorded events.</div> : null}
            <ol class="timeline" data-testid="timeline" reversed>
              {items.map((it) => (it.type === 'conflict' ? <ConflictItem c={it.c} /> : <EventItem it={it} />))}
            </ol>
          </section>
        </div>
      ) : null}
    </div>
  );
}
