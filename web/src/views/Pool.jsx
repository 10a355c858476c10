// One pool: its address space as a heat map, the exhaustion forecast and its configuration.
import { useEffect, useRef } from 'preact/hooks';
import { ErrorBox, useApi, KeyValues } from '../components/common.jsx';
import { HeatMap } from '../components/HeatMap.jsx';
import { UtilBar } from './Overview.jsx';
import { fmtCount, fmtCountShort, fmtDuration, fmtPct, fmtTime } from '../util.js';

const fmtRate = (r) => (r >= 100 ? fmtCount(Math.round(r)) : r.toFixed(1));

function Forecast({ forecast, pool }) {
  if (forecast === undefined) return null;
  const rate = forecast ? Number(forecast.allocations_per_hour) : NaN;
  let body;
  if (!forecast) {
    body = (
      <div class="muted">
        No forecast yet: the engine forecasts from samples of the pool's use over the last hour and has
        too few so far.
      </div>
    );
  } else if (!(rate > 0)) {
    body = (
      <div>
        <div class="big">not growing</div>
        <div class="muted">used + quarantined did not grow over the recent samples: no exhaustion expected at this rate.</div>
      </div>
    );
  } else if (forecast.exhaustion_in_s === null || forecast.exhaustion_in_s === undefined) {
    body = (
      <div>
        <div class="big">{fmtRate(rate)} / h</div>
        <div class="muted">allocation rate; no exhaustion forecast.</div>
      </div>
    );
  } else {
    const soon = Number(forecast.exhaustion_in_s) < 24 * 3600;
    body = (
      <div>
        <div class="big" style={{ color: soon ? 'var(--bar-alert)' : undefined }} data-testid="forecast-eta">
          full in {fmtDuration(forecast.exhaustion_in_s)}
        </div>
        <div class="muted">
          at {fmtRate(rate)} allocations / h
          {forecast.exhaustion_at ? <> · around {fmtTime(forecast.exhaustion_at)}</> : null}
        </div>
      </div>
    );
  }
  return (
    <section class="panel forecast" aria-labelledby="forecast-title" data-testid="forecast">
      <h2 id="forecast-title">Exhaustion forecast</h2>
      {body}
      {pool ? (
        <div style={{ marginTop: '10px' }}>
          <UtilBar pool={pool} />
          <div class="muted" style={{ marginTop: '4px' }}>
            {fmtPct(pool.utilization?.utilization)} in use · alert at {fmtPct(pool.threshold, 0)}
          </div>
        </div>
      ) : null}
    </section>
  );
}

function Details({ pool }) {
  const u = pool.utilization || {};
  const rows = [
    ['Network', pool.network],
    ['CIDRs', <span class="mono">{(pool.cidrs || [pool.cidr]).join(', ')}</span>],
    ['Gateway', pool.gateway ? <span class="mono">{pool.gateway}</span> : '–'],
    ['Reserved', (pool.reserved || []).length ? <span class="mono">{pool.reserved.join(', ')}</span> : 'none'],
    [
      'Ranges',
      (pool.ranges || []).length ? (
        <span class="mono">{pool.ranges.map((r) => (typeof r === 'string' ? r : `${r.start}-${r.end}`)).join(', ')}</span>
      ) : (
        'whole CIDR'
      ),
    ],
    ['Alert threshold', fmtPct(pool.threshold, 0)],
    ['Quarantine', pool.quarantine_s != null ? `${fmtDuration(pool.quarantine_s)} after release` : '–'],
    ['Default lease', pool.default_ttl_s ? fmtDuration(pool.default_ttl_s) : 'none (no expiry)'],
  ];
  if (pool.tenant) rows.push(['Tenant', pool.tenant]);
  if (pool.cluster) rows.push(['Cluster', pool.cluster]);
  if (pool.vlan != null) rows.push(['VLAN', pool.vlan]);
  if (pool.vni != null) rows.push(['VNI', pool.vni]);
  if (pool.parent) rows.push(['Parent', <a href={`#/pools/${encodeURIComponent(pool.parent)}`}>{pool.parent}</a>]);
  if ((pool.children || []).length)
    rows.push([
      'Children',
      pool.children.map((c, i) => {
        const name = typeof c === 'string' ? c : c.name;
        return (
          <>
            {i ? ', ' : ''}
            <a href={`#/pools/${encodeURIComponent(name)}`}>{name}</a>
          </>
        );
      }),
    ]);
  if (pool.external) rows.push(['External', 'yes (addresses managed elsewhere)']);
  return (
    <section class="panel" aria-labelledby="details-title">
      <h2 id="details-title">Pool</h2>
      <KeyValues rows={rows} testid="pool-details" />
      <h3>Addresses</h3>
      <table class="kv" data-testid="pool-counts">
        <tbody>
          {['size', 'allocatable', 'used', 'quarantined', 'free', 'reserved'].map((k) => (
            <tr>
              <th>{k}</th>
              <td class="num" data-testid={`count-${k}`} data-value={u[k]} title={fmtCount(u[k])}>
                {fmtCountShort(u[k])}
              </td>
            </tr>
          ))}
          <tr>
            <th>bindings</th>
            <td class="num">{fmtCount(pool.bindings)}</td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}

export function PoolView({ name }) {
  const pool = useApi(`/v1/pools/${encodeURIComponent(name)}`);
  const map = useApi(`/v1/pools/${encodeURIComponent(name)}/map`);
  const drawnFor = useRef(null);

  useEffect(() => {
    drawnFor.current = null;
  }, [name]);

  const onDrawn = () => {
    if (drawnFor.current === map.data) return;
    drawnFor.current = map.data;
    const starts = performance.getEntriesByName('route-change', 'mark');
    const start = starts.length ? starts[starts.length - 1].startTime : 0;
    performance.mark('heatmap-drawn');
    performance.measure('heatmap', { start, end: 'heatmap-drawn' });
  };

  const p = pool.data;
  return (
    <div data-testid="pool-view">
      <div class="page-head">
        <h1>
          Pool <span data-testid="pool-name">{name}</span>
        </h1>
        {p ? (
          <span class="sub mono">
            {(p.cidrs || [p.cidr]).join(', ')} · {p.network}
          </span>
        ) : null}
        {p?.alert ? <span class="alert-tag">over threshold</span> : null}
        <div class="spacer" />
        <a href="#/">← all pools</a>
      </div>
      <ErrorBox error={pool.error} what={`pool ${name}`} />
      <div class="grid-overview">
        <section class="panel" aria-labelledby="heat-title">
          <div class="panel-head">
            <h2 id="heat-title">Address space</h2>
            {map.data ? (
              <span class="hint">
                {fmtCount(map.data.cells_total)} cells
                {Number(map.data.cell_size) > 1 ? ` of ${fmtCountShort(map.data.cell_size)} addresses` : ''}
              </span>
            ) : null}
          </div>
          <ErrorBox error={map.error} what="the heat map" />
          {map.loading ? <div class="loading">Loading the address map…</div> : null}
          {map.data ? <HeatMap map={map.data} onDrawn={onDrawn} /> : null}
        </section>
        <div class="stack">
          {map.data || map.error ? <Forecast forecast={map.data ? map.data.forecast : null} pool={p} /> : null}
          {p ? <Details pool={p} /> : null}
        </div>
      </div>
    </div>
  );
}
