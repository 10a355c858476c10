// The event log (GET /v1/audit), newest first, filtered by op, actor, subject key and time, paged
// with next_cursor.
import { useEffect, useState } from 'preact/hooks';
import { get, query } from '../api.js';
import { replaceParams } from '../router.js';
import { ErrorBox } from '../components/common.jsx';
import { describeEvent, opClass, subjectHref } from '../events.js';
import { fmtTime, localInputToIso } from '../util.js';

const OPS = [
  'binding.allocate',
  'binding.activate',
  'binding.release',
  'binding.expire',
  'binding.renew',
  'host.renew',
  'binding.migrate',
  'binding.update',
  'binding.reassign',
  'address.move',
  'pool.create',
  'pool.update',
  'pool.expand',
  'pool.delete',
  'pool.utilization',
  'conflict.opened',
  'conflict.acknowledged',
  'conflict.resolved',
  'conflict.remediated',
  'scan.requested',
  'scan.completed',
  'policy.update',
  'token.create',
  'token.revoke',
  'webhook.create',
  'webhook.delete',
  'portmap.create',
  'portmap.delete',
  'portrange.set',
  'portrange.delete',
  'enforcement.failed',
  'enforcement.restored',
];

const PAGE = 50;

function fromParams(params) {
  const keyKind = ['ip', 'mac', 'instance'].find((k) => params.get(k)) || 'ip';
  return {
    op: params.get('op') || '',
    actor: params.get('actor') || '',
    keyKind,
    key: params.get(keyKind) || '',
    from: params.get('from') || '',
    to: params.get('to') || '',
  };
}

function Row({ ev }) {
  const [open, setOpen] = useState(false);
  const link = subjectHref(ev.subject);
  return (
    <>
      <tr data-testid="audit-row" data-seq={ev.seq} data-op={ev.op}>
        <td class="num">{ev.seq}</td>
        <td class="nowrap" title={ev.time}>
          {fmtTime(ev.time)}
        </td>
        <td>{ev.actor}</td>
        <td class={`nowrap ${opClass(ev.op)}`} style={{ fontWeight: 600 }}>
          {ev.op}
        </td>
        <td class="mono nowrap">{link ? <a href={link}>{ev.subject}</a> : ev.subject}</td>
        <td>{describeEvent(ev)}</td>
        <td>
          <button type="button" class="link" onClick={() => setOpen(!open)} aria-expanded={open}>
            {open ? 'hide' : 'before/after'}
          </button>
        </td>
      </tr>
      {open ? (
        <tr>
          <td colSpan={7}>
            <div class="grid-2">
              <div>
                <div class="muted">before</div>
                <pre class="json">{ev.before ? JSON.stringify(ev.before, null, 2) : 'null'}</pre>
              </div>
              <div>
                <div class="muted">after</div>
                <pre class="json">{ev.after ? JSON.stringify(ev.after, null, 2) : 'null'}</pre>
              </div>
            </div>
          </td>
        </tr>
      ) : null}
    </>
  );
}

export function Audit({ params }) {
  const [form, setForm] = useState(() => fromParams(params));
  const [applied, setApplied] = useState(form);
  const [cursors, setCursors] = useState(['']);
  const [page, setPage] = useState({ items: [], next: null, error: null, loading: true });
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    const f = applied;
    replaceParams('/audit', { op: f.op, actor: f.actor, [f.keyKind]: f.key, from: f.from, to: f.to });
    const controller = new AbortController();
    setPage((p) => ({ ...p, loading: true }));
    const path = `/v1/audit${query({
      op: f.op,
      actor: f.actor,
      [f.keyKind]: f.key,
      from: localInputToIso(f.from),
      to: localInputToIso(f.to),
      limit: PAGE,
      cursor,
    })}`;
    get(path, { signal: controller.signal }).then(
      (r) => setPage({ items: r.items || [], next: r.next_cursor || null, error: null, loading: false }),
      (error) => error?.name !== 'AbortError' && setPage({ items: [], next: null, error, loading: false }),
    );
    return () => controller.abort();
  }, [applied, cursor]);

  const submit = (e) => {
    e.preventDefault();
    setCursors(['']);
    setApplied({ ...form });
  };
  const set = (k) => (e) => setForm((f) => ({ ...f, [k]: e.currentTarget.value }));

  return (
    <div data-testid="audit-view">
      <div class="page-head">
        <h1>Audit</h1>
        <span class="sub">every change to the ledger, newest first</span>
      </div>
      <form class="filters panel" onSubmit={submit} role="search" aria-label="Audit filters">
        <label class="field">
          <span>Operation</span>
          <input type="text" list="audit-ops" value={form.op} onInput={set('op')} placeholder="any" style={{ width: '170px' }} data-testid="audit-op" />
          <datalist id="audit-ops">
            {OPS.map((o) => (
              <option value={o} />
            ))}
          </datalist>
        </label>
        <label class="field">
          <span>Actor</span>
          <input type="text" value={form.actor} onInput={set('actor')} placeholder="any" style={{ width: '120px' }} data-testid="audit-actor" />
        </label>
        <div class="field">
          <span id="audit-key-label">Subject</span>
          <div style={{ display: 'flex', gap: '4px' }}>
            <select value={form.keyKind} onChange={set('keyKind')} aria-label="Subject kind">
              <option value="ip">IP</option>
              <option value="mac">MAC</option>
              <option value="instance">instance</option>
            </select>
            <input
              type="text"
              value={form.key}
              onInput={set('key')}
              placeholder="any"
              aria-labelledby="audit-key-label"
              style={{ width: '170px' }}
              data-testid="audit-key"
            />
          </div>
        </div>
        <label class="field">
          <span>From</span>
          <input type="datetime-local" step="1" value={form.from} onInput={set('from')} />
        </label>
        <label class="field">
          <span>To</span>
          <input type="datetime-local" step="1" value={form.to} onInput={set('to')} />
        </label>
        <button type="submit" class="primary" data-testid="audit-apply">
          Apply
        </button>
        <button
          type="button"
          onClick={() => {
            const empty = { op: '', actor: '', keyKind: 'ip', key: '', from: '', to: '' };
            setForm(empty);
            setCursors(['']);
            setApplied(empty);
          }}
        >
          Clear
        </button>
      </form>
      <section class="panel">
        <ErrorBox error={page.error} what="the audit log" />
        {page.loading && !page.items.length ? <div class="loading">Loading…</div> : null}
        {!page.loading && !page.items.length && !page.error ? <div class="empty">No events match.</div> : null}
        {page.items.length ? (
          <table class="data" data-testid="audit-table">
            <thead>
              <tr>
                <th class="num">Seq</th>
                <th>Time</th>
                <th>Actor</th>
                <th>Operation</th>
                <th>Subject</th>
                <th>Summary</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {page.items.map((ev) => (
                <Row ev={ev} key={ev.seq} />
              ))}
            </tbody>
          </table>
        ) : null}
        <div class="pager">
          <span class="muted">page {cursors.length}</span>
          <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            ← Newer
          </button>
          <button
            type="button"
            disabled={!page.next}
            onClick={() => setCursors((c) => [...c, page.next])}
            data-testid="audit-older"
          >
            Older →
          </button>
        </div>
      </section>
    </div>
  );
}
