// Address health (GET /v1/reports/health): how well the wire agreed with the ledger over a
// period, the conflicts opened and resolved by kind, time to resolve, the most flapping and
// drifting MACs, and where the pools are going. Charts are plain SVG: every mark carries its
// value (data-value), every figure its place in the JSON (data-figure).
import { useMemo } from 'preact/hooks';
import { query } from '../api.js';
import { replaceParams } from '../router.js';
import { ErrorBox, useApi } from '../components/common.jsx';
import { fmtDuration, fmtPct, fmtTime, humanKind, num } from '../util.js';

const PERIODS = [
  { days: 1, label: '24 hours' },
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
];
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563', '#65a30d'];
const W = 720;
const H = 170;
const LEFT = 36;
const BOTTOM = 18;

function Figure({ path, children }) {
  return (
    <b class="fig" data-figure={path}>
      {children}
    </b>
  );
}

function Card({ label, children }) {
  return (
    <div class="health-card">
      <span>{label}</span>
      {children}
    </div>
  );
}

const seconds = (v) => (v === null || v === undefined ? '–' : fmtDuration(v));

/** One bar per bucket, stacked by kind. */
export function StackedBars({ id, byKind, buckets }) {
  const kinds = Object.keys(byKind || {});
  const n = Math.max(1, buckets.length);
  const totals = Array.from({ length: n }, (_, i) => kinds.reduce((s, k) => s + num(byKind[k][i]), 0));
  const top = Math.max(1, ...totals);
  const bw = (W - LEFT) / n;
  const h = H - BOTTOM;
  const base = new Array(n).fill(0);
  return (
    <figure class="health-chart">
      <svg data-chart={id} viewBox={`0 0 ${W} ${H}`} role="img" aria-label={id}>
        <text x="0" y="12" class="axis">{top}</text>
        <line x1={LEFT} y1={h} x2={W} y2={h} class="axis-line" />
        {buckets.length > 0 ? <text x={LEFT} y={H - 4} class="axis">{fmtTime(buckets[0])}</text> : null}
        {kinds.map((kind, ki) =>
          byKind[kind].map((v, i) => {
            if (!(num(v) > 0)) return null;
            const bh = (num(v) / top) * (h - 14);
            base[i] += bh;
            return (
              <rect data-kind={kind} data-bucket={i} data-value={num(v)} x={LEFT + i * bw + 1} y={h - base[i]}
                width={Math.max(1, bw - 2)} height={bh} fill={PALETTE[ki % PALETTE.length]}>
                <title>{`${humanKind(kind)}: ${v} (${fmtTime(buckets[i])})`}</title>
              </rect>
            );
          }),
        )}
      </svg>
      <figcaption class="legend">
        {kinds.length === 0 ? <span>none</span> : null}
        {kinds.map((k, ki) => (
          <span>
            <i style={{ background: PALETTE[ki % PALETTE.length] }} />
            {humanKind(k)}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** Utilization (0..1) of the fullest pools at each bucket's end. */
function UtilizationLines({ pools, buckets }) {
  const h = H - BOTTOM;
  const step = buckets.length > 1 ? (W - LEFT) / (buckets.length - 1) : 0;
  const shown = pools.slice(0, 8);
  return (
    <figure class="health-chart">
      <svg data-chart="utilization" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="pool utilization">
        <text x="0" y="12" class="axis">100%</text>
        <line x1={LEFT} y1={h} x2={W} y2={h} class="axis-line" />
        {shown.map((p, pi) => (
          <polyline data-pool={p.name} fill="none" stroke={PALETTE[pi % PALETTE.length]} stroke-width="2"
            points={(p.utilization_series || []).map((u, i) => `${LEFT + i * step},${h - num(u) * (h - 14)}`).join(' ')} />
        ))}
      </svg>
      <figcaption class="legend">
        {shown.map((p, pi) => (
          <span>
            <i style={{ background: PALETTE[pi % PALETTE.length] }} />
            {p.name}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

function KindTable({ conflicts }) {
  const kinds = [...new Set([...Object.keys(conflicts.opened), ...Object.keys(conflicts.resolved)])].sort();
  const total = (s) => (s || []).reduce((a, v) => a + num(v), 0);
  const byKind = conflicts.time_to_resolve.by_kind || {};
  return (
    <table class="data" data-testid="health-kinds">
      <thead>
        <tr><th>Kind</th><th>Opened</th><th>Resolved</th><th>Median to resolve</th><th>p95</th></tr>
      </thead>
      <tbody>
        {kinds.map((k) => (
          <tr data-kind={k}>
            <td>{humanKind(k)}</td>
            <td>{total(conflicts.opened[k])}</td>
            <td>{total(conflicts.resolved[k])}</td>
            <td>{seconds(byKind[k]?.median_s)}</td>
            <td>{seconds(byKind[k]?.p95_s)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function MacTable({ title, items, testid }) {
  return (
    <div>
      <h3>{title}</h3>
      {items.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <table class="data" data-testid={testid}>
          <thead><tr><th>MAC</th><th>Conflicts</th><th>Sightings</th><th>Last seen</th></tr></thead>
          <tbody>
            {items.map((m) => (
              <tr><td class="mono">{m.mac}</td><td>{m.conflicts}</td><td>{m.count}</td><td>{fmtTime(m.last_seen)}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function PoolTable({ pools }) {
  return (
    <table class="data" data-testid="health-pools">
      <thead>
        <tr><th>Pool</th><th>Network</th><th>Utilization</th><th>Used</th><th>Allocatable</th><th>Allocations/h</th><th>Exhausted at</th></tr>
      </thead>
      <tbody>
        {pools.map((p) => (
          <tr data-pool={p.name}>
            <td><a href={`#/pools/${encodeURIComponent(p.name)}`}>{p.name}</a></td>
            <td>{p.network}</td>
            <td>{fmtPct(p.utilization)}</td>
            <td>{p.used}</td>
            <td>{p.allocatable}</td>
            <td>{p.allocations_per_hour === null ? '–' : num(p.allocations_per_hour).toFixed(1)}</td>
            <td>{p.exhaustion_at ? fmtTime(p.exhaustion_at) : '–'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Report({ r }) {
  const c = r.conflicts;
  const ttr = c.time_to_resolve;
  return (
    <div data-testid="health-report">
      <p class="muted">
        {fmtTime(r.from)} to {fmtTime(r.to)} · buckets of {fmtDuration(r.step_s)}
        {r.truncated ? ' · the period held more events than one report reads: trends are partial' : ''}
      </p>
      <div class="health-cards">
        <Card label={`Sync rate (${r.sync.agreeing} of ${r.sync.observed} seen)`}>
          <Figure path="sync.rate">{fmtPct(r.sync.rate)}</Figure>
        </Card>
        <Card label="Conflicts opened"><Figure path="conflicts.opened_total">{c.opened_total}</Figure></Card>
        <Card label="Conflicts resolved"><Figure path="conflicts.resolved_total">{c.resolved_total}</Figure></Card>
        <Card label="Open now"><Figure path="conflicts.open_now">{c.open_now}</Figure></Card>
        <Card label="Median to resolve"><Figure path="conflicts.time_to_resolve.median_s">{seconds(ttr.median_s)}</Figure></Card>
        <Card label="p95 to resolve"><Figure path="conflicts.time_to_resolve.p95_s">{seconds(ttr.p95_s)}</Figure></Card>
        <Card label="Probes passed / in use">
          <Figure path="probes.passed">{r.probes.passed}</Figure> / <Figure path="probes.in_use">{r.probes.in_use}</Figure>
        </Card>
        <Card label="Quarantined"><Figure path="quarantine.entered">{r.quarantine.entered}</Figure></Card>
        <Card label="DHCP declines"><Figure path="declines.count">{r.declines.count}</Figure></Card>
      </div>
      <section class="panel">
        <h2>Conflicts opened</h2>
        <StackedBars id="conflicts-opened" byKind={c.opened} buckets={r.buckets} />
        <h2>Conflicts resolved</h2>
        <StackedBars id="conflicts-resolved" byKind={c.resolved} buckets={r.buckets} />
        <KindTable conflicts={c} />
      </section>
      <section class="panel">
        <h2>Pool utilization</h2>
        <UtilizationLines pools={r.pools} buckets={r.buckets} />
        <PoolTable pools={r.pools} />
      </section>
      <section class="panel">
        <h2>MACs</h2>
        <div class="health-macs">
          <MacTable title="Flapping" items={r.macs.flapping} testid="health-flapping" />
          <MacTable title="Drifting" items={r.macs.drifting} testid="health-drifting" />
        </div>
      </section>
    </div>
  );
}

export function Health({ params }) {
  const days = Number(params.get('days')) || 7;
  // The period ends at the minute the page asked, so a re-render does not refetch.
  const from = useMemo(() => Math.floor(Date.now() / 60000) * 60 - days * 86400, [days]);
  const report = useApi(`/v1/reports/health${query({ from })}`, { keepPrevious: true });
  return (
    <div data-testid="health-page">
      <div class="page-head">
        <h1>Address health</h1>
        <div class="health-periods" role="group" aria-label="Period">
          {PERIODS.map((p) => (
            <button type="button" aria-pressed={p.days === days} data-days={p.days}
              onClick={() => {
                replaceParams('/health', { days: p.days });
                dispatchEvent(new HashChangeEvent('hashchange'));
              }}>
              {p.label}
            </button>
          ))}
        </div>
      </div>
      <ErrorBox error={report.error} what="the health report" />
      {report.data ? <Report r={report.data} /> : report.loading ? <p class="muted">Loading…</p> : null}
    </div>
  );
}
