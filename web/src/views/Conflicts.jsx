// Conflicts: filter, read the evidence, acknowledge or resolve (operator and admin).
import { useEffect, useState } from 'preact/hooks';
import { get, post, query } from '../api.js';
import { replaceParams } from '../router.js';
import { roleAtLeast, useSession } from '../session.js';
import { ErrorBox, SeverityBadge, StatusBadge, useApi } from '../components/common.jsx';
import { CONFLICT_KINDS, fmtAgo, fmtTime, fmtWhen, humanKind, SEVERITIES } from '../util.js';

function filtersFrom(params) {
  return {
    status: params.get('status') ?? 'open',
    kind: params.get('kind') || '',
    severity: params.get('severity') || '',
    ip: params.get('ip') || '',
  };
}

function DetailValue({ v }) {
  if (v === null || v === undefined) return <span class="faint">–</span>;
  if (typeof v === 'object') return <code>{JSON.stringify(v)}</code>;
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return <span title={v}>{fmtTime(v)}</span>;
  return <span>{String(v)}</span>;
}

function ConflictDetail({ id, onChanged, onClose }) {
  const session = useSession();
  const conflict = useApi(`/v1/conflicts/${encodeURIComponent(id)}`);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState('');
  const [actionError, setActionError] = useState(null);
  const [done, setDone] = useState('');
  const allowed = roleAtLeast(session.role, 'operator');
  const c = conflict.data;

  useEffect(() => {
    setActionError(null);
    setDone('');
    setNote('');
  }, [id]);

  const act = async (what) => {
    setBusy(what);
    setActionError(null);
    setDone('');
    try {
      await post(`/v1/conflicts/${encodeURIComponent(id)}/${what}`, note.trim() ? { note: note.trim() } : {});
      setDone(what === 'ack' ? 'Acknowledged.' : 'Resolved.');
      setNote('');
      conflict.reload();
      onChanged();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy('');
    }
  };

  if (conflict.error) return <ErrorBox error={conflict.error} what={`conflict ${id}`} />;
  if (!c) return <div class="loading">Loading conflict {id}…</div>;
  const details = Object.entries(c.details || {});
  const canAck = c.status === 'open';
  const canResolve = c.status !== 'resolved';
  const disabledWhy = allowed === false ? `Your role (${session.role}) can read conflicts but not change them: operator or admin needed.` : '';

  return (
    <div data-testid="conflict-detail" data-conflict={c.id} data-status={c.status}>
      <div class="panel-head">
        <h2 style={{ margin: 0 }}>
          Conflict #{c.id}: {humanKind(c.kind)}
        </h2>
        <div class="spacer" />
        <button type="button" class="icon" onClick={onClose} aria-label="Close the conflict detail">
          ✕
        </button>
      </div>
      <div style={{ display: 'flex', gap: '8px', alignItems: 'center', marginBottom: '6px' }}>
        <SeverityBadge severity={c.severity} />
        <StatusBadge status={c.status} />
        <span class="muted">
          seen {c.count}× · first {fmtTime(c.first_seen)} · last {fmtAgo(c.last_seen)}
        </span>
      </div>
      <p style={{ margin: '6px 0 10px' }} data-testid="conflict-message">
        {c.message}
      </p>
      <table class="kv">
        <tbody>
          <tr>
            <th>Subject</th>
            <td class="mono">{c.subject}</td>
          </tr>
          {c.ip ? (
            <tr>
              <th>IP</th>
              <td class="mono">
                <a href={`#/search?q=${encodeURIComponent(c.ip)}`}>{c.ip}</a>
              </td>
            </tr>
          ) : null}
          {c.mac ? (
            <tr>
              <th>MAC</th>
              <td class="mono">
                <a href={`#/search?q=${encodeURIComponent(c.mac)}`}>{c.mac}</a>
              </td>
            </tr>
          ) : null}
          {c.binding_id ? (
            <tr>
              <th>Binding</th>
              <td>
                <a href={`#/bindings/${encodeURIComponent(c.binding_id)}`}>binding {c.binding_id}</a>
              </td>
            </tr>
          ) : null}
          {c.pool ? (
            <tr>
              <th>Pool</th>
              <td>
                <a href={`#/pools/${encodeURIComponent(c.pool)}`}>{c.pool}</a> <span class="muted">({c.network})</span>
              </td>
            </tr>
          ) : null}
          <tr>
            <th>Remediation</th>
            <td>
              <DetailValue v={c.remediation?.policy ?? c.remediation} />
            </td>
          </tr>
          {c.acknowledged_by ? (
            <tr>
              <th>Acknowledged by</th>
              <td data-testid="acknowledged-by">{c.acknowledged_by}</td>
            </tr>
          ) : null}
          {c.resolved_by ? (
            <tr>
              <th>Resolved by</th>
              <td>{c.resolved_by}</td>
            </tr>
          ) : null}
          {c.resolution ? (
            <tr>
              <th>Resolution</th>
              <td>
                <DetailValue v={c.resolution} />
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>

      {c.status !== 'resolved' ? (
        <div class="detail-actions">
          {allowed !== false ? (
            <input
              type="text"
              placeholder="Note (optional)"
              aria-label="Note for acknowledge or resolve"
              value={note}
              onInput={(e) => setNote(e.currentTarget.value)}
            />
          ) : null}
          <button
            type="button"
            class="primary"
            disabled={!canAck || !!busy || allowed === false}
            title={disabledWhy || (canAck ? 'Acknowledge: someone is on it' : 'Already acknowledged')}
            onClick={() => act('ack')}
            data-testid="ack-button"
          >
            {busy === 'ack' ? 'Acknowledging…' : 'Acknowledge'}
          </button>
          <button
            type="button"
            disabled={!canResolve || !!busy || allowed === false}
            title={disabledWhy || 'Resolve: the conflict is dealt with'}
            onClick={() => act('resolve')}
            data-testid="resolve-button"
          >
            {busy === 'resolve' ? 'Resolving…' : 'Resolve'}
          </button>
        </div>
      ) : null}
      {disabledWhy && c.status !== 'resolved' ? (
        <div class="notice" data-testid="role-notice">
          {disabledWhy}
        </div>
      ) : null}
      {actionError ? (
        <div class="error" role="alert" data-testid="action-error">
          <strong>{actionError.status === 403 ? 'Not allowed (403)' : `Failed (${actionError.status || 'network'})`}</strong>
          {': '}
          {actionError.message}
        </div>
      ) : null}
      {done ? (
        <div class="notice" role="status" data-testid="action-done">
          {done}
        </div>
      ) : null}

      <h3>Evidence</h3>
      {(c.evidence || []).length ? (
        <div style={{ overflow: 'auto' }}>
          <table class="data nowrap" data-testid="evidence">
            <thead>
              <tr>
                <th>Time</th>
                <th>IP</th>
                <th>MAC</th>
                <th>Seen on</th>
                <th>Source</th>
              </tr>
            </thead>
            <tbody>
              {c.evidence.map((e) => (
                <tr>
                  <td class="nowrap" title={e.time}>
                    {fmtWhen(e.time)}
                  </td>
                  <td class="mono">{e.ip}</td>
                  <td class="mono">{e.mac}</td>
                  <td>
                    {e.host || '?'}
                    {e.interface ? <span class="muted"> / {e.interface}</span> : null}
                  </td>
                  <td>
                    {e.source}
                    {e.kind ? <span class="muted"> ({e.kind})</span> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <div class="empty">No evidence recorded.</div>
      )}
      {details.length ? (
        <>
          <h3>Details</h3>
          <table class="kv" data-testid="conflict-details">
            <tbody>
              {details.map(([k, v]) => (
                <tr>
                  <th>{k.replace(/_/g, ' ')}</th>
                  <td>
                    <DetailValue v={v} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}

export function Conflicts({ params }) {
  const [filters, setFilters] = useState(() => filtersFrom(params));
  const [selected, setSelected] = useState(params.get('id') || '');
  const [pages, setPages] = useState({ items: [], next: '', error: null, loading: true });
  const [tick, setTick] = useState(0);

  // Follow the URL when it changes from outside (a link to #/conflicts?id=…).
  useEffect(() => {
    setFilters(filtersFrom(params));
    setSelected(params.get('id') || '');
  }, [params.toString()]);

  useEffect(() => {
    replaceParams('/conflicts', { ...filters, id: selected });
  }, [filters, selected]);

  const listPath = (cursor) =>
    `/v1/conflicts${query({
      status: filters.status === 'all' ? '' : filters.status,
      kind: filters.kind,
      severity: filters.severity,
      ip: filters.ip,
      cursor,
    })}`;

  useEffect(() => {
    const controller = new AbortController();
    setPages((p) => ({ ...p, loading: true }));
    get(listPath(''), { signal: controller.signal }).then(
      (r) => setPages({ items: r.items || [], next: r.next_cursor || '', error: null, loading: false }),
      (error) => error?.name !== 'AbortError' && setPages({ items: [], next: '', error, loading: false }),
    );
    return () => controller.abort();
  }, [filters, tick]);

  // A page asked for under other filters (changed while it was on its way) is dropped: it
  // continues a list that is no longer shown. `pages.cursor` ties a page to the list it extends.
  const more = () => {
    const cursor = pages.next;
    return get(listPath(cursor)).then(
      (r) =>
        setPages((p) =>
          p.next !== cursor ? p : { items: [...p.items, ...(r.items || [])], next: r.next_cursor || '', error: null, loading: false },
        ),
      (error) => setPages((p) => (p.next !== cursor ? p : { ...p, error })),
    );
  };

  const set = (k) => (e) => setFilters((f) => ({ ...f, [k]: e.currentTarget.value }));

  return (
    <div data-testid="conflicts-view">
      <div class="page-head">
        <h1>Conflicts</h1>
        <span class="sub">where the wire, the ledger and the configuration disagree</span>
      </div>
      <div class="filters panel" role="search" aria-label="Conflict filters">
        <label class="field">
          <span>Status</span>
          <select value={filters.status} onChange={set('status')} data-testid="filter-status">
            <option value="open">open</option>
            <option value="acknowledged">acknowledged</option>
            <option value="resolved">resolved</option>
            <option value="all">all</option>
          </select>
        </label>
        <label class="field">
          <span>Kind</span>
          <select value={filters.kind} onChange={set('kind')} data-testid="filter-kind">
            <option value="">any kind</option>
            {CONFLICT_KINDS.map((k) => (
              <option value={k}>{humanKind(k)}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Minimum severity</span>
          <select value={filters.severity} onChange={set('severity')} data-testid="filter-severity">
            <option value="">any</option>
            {[...SEVERITIES].reverse().map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>IP</span>
          <input type="text" value={filters.ip} placeholder="any" onChange={set('ip')} style={{ width: '160px' }} />
        </label>
        <button type="button" onClick={() => setTick((t) => t + 1)}>
          Refresh
        </button>
      </div>
      <div class="conflicts-layout">
        <section class="panel" aria-label="Conflict list">
          <ErrorBox error={pages.error} what="the conflicts" />
          {pages.loading && !pages.items.length ? <div class="loading">Loading…</div> : null}
          {!pages.loading && !pages.items.length && !pages.error ? (
            <div class="empty">No conflicts match these filters.</div>
          ) : null}
          {pages.items.length ? (
            <table class="data" data-testid="conflict-list">
              <thead>
                <tr>
                  <th>Severity</th>
                  <th>#</th>
                  <th>Kind</th>
                  <th>IP</th>
                  <th>MAC</th>
                  <th>Pool</th>
                  <th>Status</th>
                  <th class="num">Seen</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                {pages.items.map((c) => (
                  <tr
                    class={`clickable ${String(c.id) === String(selected) ? 'selected' : ''}`}
                    data-testid="conflict-row"
                    data-conflict={c.id}
                    onClick={() => setSelected(String(c.id))}
                  >
                    <td>
                      <SeverityBadge severity={c.severity} />
                    </td>
                    <td>
                      <a
                        href={`#/conflicts?id=${c.id}`}
                        onClick={(e) => {
                          e.preventDefault();
                          setSelected(String(c.id));
                        }}
                      >
                        {c.id}
                      </a>
                    </td>
                    <td>{humanKind(c.kind)}</td>
                    <td class="mono">{c.ip || '–'}</td>
                    <td class="mono">{c.mac || '–'}</td>
                    <td>{c.pool || '–'}</td>
                    <td>
                      <StatusBadge status={c.status} />
                    </td>
                    <td class="num">{c.count}</td>
                    <td class="muted nowrap" title={c.last_seen}>
                      {fmtAgo(c.last_seen)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {pages.next ? (
            <div class="pager">
              <button type="button" onClick={more}>
                Load more
              </button>
            </div>
          ) : null}
        </section>
        <section class="panel" aria-label="Conflict detail">
          {selected ? (
            <ConflictDetail id={selected} onChanged={() => setTick((t) => t + 1)} onClose={() => setSelected('')} />
          ) : (
            <div class="empty">Select a conflict to see its evidence and act on it.</div>
          )}
        </section>
      </div>
    </div>
  );
}
