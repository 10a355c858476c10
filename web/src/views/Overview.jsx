// The ledger at a glance: every pool with its utilization against its threshold, open conflicts by
// severity, allocation/release rates and the live event feed.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { getPrefetched, takeIfReady } from '../prefetch.js';
import { ErrorBox, useInterval } from '../components/common.jsx';
import { RatesChart } from '../components/RatesChart.jsx';
import { EventFeed } from '../components/EventFeed.jsx';
import { fmtCount, fmtCountShort, fmtPct, humanKind, num, SEVERITIES } from '../util.js';

const COLUMNS = [
  { key: 'name', label: 'Pool' },
  { key: 'cidr', label: 'CIDR' },
  { key: 'util', label: 'Utilization' },
  { key: 'used', label: 'Used', num: true },
  { key: 'quarantined', label: 'Quar.', num: true, title: 'Quarantined (released, held before reuse)' },
  { key: 'free', label: 'Free', num: true },
  { key: 'allocatable', label: 'Allocatable', num: true },
  { key: 'threshold', label: 'Alert at', num: true },
];

function sortValue(p, key) {
  const u = p.utilization || {};
  switch (key) {
    case 'name':
      return p.name;
    case 'cidr':
      return (p.cidrs || [p.cidr]).join(',');
    case 'util':
      return Number(u.utilization) || 0;
    case 'threshold':
      return Number(p.threshold) || 0;
    default:
      return num(u[key]);
  }
}

export function UtilBar({ pool }) {
  const u = pool.utilization || {};
  const alloc = num(u.allocatable);
  const usedPct = alloc > 0 ? (num(u.used) / alloc) * 100 : 0;
  const qPct = alloc > 0 ? (num(u.quarantined) / alloc) * 100 : 0;
  const th = Math.min(100, Math.max(0, (Number(pool.threshold) || 0) * 100));
  return (
    <div
      class={`ubar ${pool.alert ? 'alert' : ''}`}
      role="meter"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round((Number(u.utilization) || 0) * 1000) / 10}
      aria-label={`${pool.name} utilization, alert threshold ${th.toFixed(0)} %`}
      title={`used ${fmtCountShort(u.used)}, quarantined ${fmtCountShort(u.quarantined)} of ${fmtCountShort(u.allocatable)} allocatable; alert at ${th.toFixed(0)} %`}
    >
      <div class="fill" style={{ width: `${Math.min(100, usedPct)}%` }} />
      <div class="qfill" style={{ left: `${Math.min(100, usedPct)}%`, width: `${Math.min(100 - Math.min(100, usedPct), qPct)}%` }} />
      <div class="threshold" style={{ left: `${th}%` }} data-testid="threshold-mark" />
    </div>
  );
}

function PoolsTable({ pools }) {
  const [sort, setSort] = useState({ key: 'util', dir: -1 });
  const [filter, setFilter] = useState('');
  const rows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const list = f
      ? pools.filter((p) => p.name.toLowerCase().includes(f) || (p.cidrs || [p.cidr]).join(' ').includes(f))
      : pools.slice();
    list.sort((a, b) => {
      const va = sortValue(a, sort.key);
      const vb = sortValue(b, sort.key);
      const c = typeof va === 'string' ? va.localeCompare(vb, undefined, { numeric: true }) : va - vb;
      return c !== 0 ? c * sort.dir : a.name.localeCompare(b.name);
    });
    return list;
  }, [pools, sort, filter]);

  const alerting = pools.filter((p) => p.alert).length;
  const clickSort = (key) =>
    setSort((s) => (s.key === key ? { key, dir: -s.dir } : { key, dir: key === 'name' || key === 'cidr' ? 1 : -1 }));

  return (
    <section class="panel" aria-labelledby="pools-title">
      <div class="panel-head">
        <h2 id="pools-title">Pools</h2>
        <span class="hint" data-testid="pool-count">
          {pools.length} pool{pools.length === 1 ? '' : 's'}
          {alerting ? ` · ${alerting} over threshold` : ''}
        </span>
        <div class="spacer" />
        <input
          type="search"
          placeholder="Filter pools"
          aria-label="Filter pools by name or CIDR"
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
          style={{ width: '180px' }}
        />
      </div>
      {pools.length === 0 ? (
        <div class="empty">No pools yet. Create one with <code>netledger pool create</code>.</div>
      ) : (
        <div class="table-scroll">
          <table class="data" data-testid="pools-table">
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th
                    class={c.num ? 'num' : ''}
                    aria-sort={sort.key === c.key ? (sort.dir > 0 ? 'ascending' : 'descending') : undefined}
                    title={c.title}
                  >
                    <button type="button" class="sort" onClick={() => clickSort(c.key)} data-testid={`sort-${c.key}`}>
                      {c.label}
                      {sort.key === c.key ? (sort.dir > 0 ? ' ▲' : ' ▼') : ''}
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => {
                const u = p.utilization || {};
                return (
                  <tr class={p.alert ? 'alert' : ''} data-testid="pool-row" data-pool={p.name} key={p.name}>
                    <td class="pool-name nowrap">
                      <a href={`#/pools/${encodeURIComponent(p.name)}`}>{p.name}</a>
                      {p.alert ? <span class="alert-tag">alert</span> : null}
                    </td>
                    <td class="mono nowrap">
                      {(p.cidrs || [p.cidr]).slice(0, 2).join(', ')}
                      {(p.cidrs || []).length > 2 ? ` +${p.cidrs.length - 2}` : ''}
                    </td>
                    <td style={{ width: '30%' }}>
                      <div style={{ display: 'flex', alignItems: 'center', gap: '8px' }}>
                        <div style={{ flex: 1 }}>
                          <UtilBar pool={p} />
                        </div>
                        <span class="util-pct num" style={{ width: '58px' }} data-testid="pool-util" data-util={u.utilization}>
                          {fmtPct(u.utilization)}
                        </span>
                      </div>
                    </td>
                    <td class="num" data-testid="pool-used" data-value={u.used} title={fmtCount(u.used)}>
                      {fmtCountShort(u.used)}
                    </td>
                    <td class="num" data-testid="pool-quarantined" data-value={u.quarantined} title={fmtCount(u.quarantined)}>
                      {fmtCountShort(u.quarantined)}
                    </td>
                    <td class="num" data-testid="pool-free" data-value={u.free} title={fmtCount(u.free)}>
                      {fmtCountShort(u.free)}
                    </td>
                    <td class="num" title={fmtCount(u.allocatable)}>
                      {fmtCountShort(u.allocatable)}
                    </td>
                    <td class="num">{fmtPct(p.threshold, 0)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function ConflictSummary({ summary, error }) {
  if (error) return <ErrorBox error={error} what="the conflict summary" />;
  if (!summary) return <div class="loading">Loading…</div>;
  const open = summary.open || {};
  const ack = summary.acknowledged || {};
  const kinds = Object.entries(summary.by_kind || {}).filter(([, n]) => n > 0);
  return (
    <div data-testid="conflict-summary">
      <div class="sev-tiles">
        {SEVERITIES.map((s) => (
          <a
            class={`sev-tile t-${s} ${open[s] ? '' : 'zero'}`}
            href={`#/conflicts?status=open&severity=${s}`}
            data-testid={`open-${s}`}
            aria-label={`${open[s] || 0} open ${s} conflicts`}
          >
            <div class="n">{open[s] || 0}</div>
            <div class="l">{s}</div>
          </a>
        ))}
      </div>
      <div class="kinds">
        <span>
          acknowledged: <b>{SEVERITIES.reduce((t, s) => t + (ack[s] || 0), 0)}</b>
        </span>
        {kinds.map(([k, n]) => (
          <span>
            {humanKind(k)}: <b>{n}</b>
          </span>
        ))}
      </div>
    </div>
  );
}

export function Overview() {
  // Data that arrived while the session was being checked renders on the first render.
  const [pools, setPools] = useState(() => takeIfReady('/v1/pools')?.items ?? null);
  const [poolsError, setPoolsError] = useState(null);
  const [summary, setSummary] = useState(() => takeIfReady('/v1/conflicts/summary') ?? null);
  const [summaryError, setSummaryError] = useState(null);
  const [ratesKey, setRatesKey] = useState(0);
  const marked = useRef(false);
  const pending = useRef({ pools: false, summary: false, timer: null });

  const loadPools = (first) =>
    (first ? getPrefetched('/v1/pools') : get('/v1/pools')).then(
      (r) => {
        setPools(r.items || []);
        setPoolsError(null);
      },
      (e) => setPoolsError(e),
    );
  const loadSummary = (first) =>
    (first ? getPrefetched('/v1/conflicts/summary') : get('/v1/conflicts/summary')).then(
      (r) => {
        setSummary(r);
        setSummaryError(null);
      },
      (e) => setSummaryError(e),
    );

  useEffect(() => {
    if (!pools) loadPools(true);
    if (!summary) loadSummary(true);
    return () => clearTimeout(pending.current.timer);
  }, []);
  useInterval(() => {
    loadPools();
    loadSummary();
  }, 30000);

  useLayoutEffect(() => {
    if (!marked.current && (pools || poolsError) && (summary || summaryError)) performance.mark('overview-committed');
  }, [pools, poolsError, summary, summaryError]);

  // Ready = the pools and the conflict summary are on screen (Preact runs effects after paint).
  useEffect(() => {
    if (marked.current) return;
    if ((pools || poolsError) && (summary || summaryError)) {
      marked.current = true;
      // From navigation start on a page load; from the route change when navigated in the app.
      const starts = performance.getEntriesByName('route-change', 'mark');
      const start = starts.length ? starts[starts.length - 1].startTime : 0;
      performance.mark('overview-ready');
      performance.measure('overview', { start, end: 'overview-ready' });
    }
  }, [pools, poolsError, summary, summaryError]);

  // Live events nudge a refresh of what they change, at most every 2 s.
  const onEvent = (ev) => {
    const p = pending.current;
    if (ev.op?.startsWith('binding.') || ev.op?.startsWith('address.') || ev.op?.startsWith('pool.')) p.pools = true;
    if (ev.op?.startsWith('conflict.')) p.summary = true;
    if (p.timer) return;
    p.timer = setTimeout(() => {
      p.timer = null;
      if (p.pools) {
        loadPools();
        setRatesKey((k) => k + 1);
      }
      if (p.summary) loadSummary();
      p.pools = p.summary = false;
    }, 2000);
  };

  return (
    <div data-testid="overview">
      <div class="page-head">
        <h1>Overview</h1>
      </div>
      <div class="grid-overview">
        <div class="stack">
          <ErrorBox error={poolsError} what="the pools" />
          {pools ? <PoolsTable pools={pools} /> : poolsError ? null : <div class="panel loading">Loading pools…</div>}
          <RatesChart refreshKey={ratesKey} />
        </div>
        <div class="stack">
          <section class="panel" aria-labelledby="conf-title">
            <div class="panel-head">
              <h2 id="conf-title">Open conflicts</h2>
              <div class="spacer" />
              <a href="#/conflicts?status=open" class="hint">
                all conflicts →
              </a>
            </div>
            <ConflictSummary summary={summary} error={summaryError} />
          </section>
          <EventFeed onEvent={onEvent} />
        </div>
      </div>
    </div>
  );
}
