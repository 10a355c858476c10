// Allocations and releases per minute over the last hour (GET /v1/stats/rates), drawn with uPlot
// and refreshed every 15 s (sooner when the live feed reports binding changes).
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { cssVar, useTheme } from '../theme.js';
import { ErrorBox, useInterval } from './common.jsx';

const REFRESH_MS = 15000;

function toColumns(rates) {
  const xs = [];
  const alloc = [];
  const rel = [];
  const exp = [];
  for (const b of rates?.buckets || []) {
    xs.push(Math.floor(new Date(b.t).getTime() / 1000));
    alloc.push(b.allocations ?? 0);
    rel.push(b.releases ?? 0);
    exp.push(b.expirations ?? 0);
  }
  return [xs, alloc, rel, exp];
}

// uPlot (and its CSS) load as a separate chunk after the first render: the overview's pools and
// conflicts need not wait for the chart library to be parsed.
let uPlotModule = null;
function loadUPlot() {
  if (!uPlotModule)
    uPlotModule = Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([m]) => m.default);
  return uPlotModule;
}

function makeOptions(uPlot, width) {
  const axis = {
    stroke: cssVar('--muted'),
    grid: { stroke: cssVar('--chart-grid'), width: 1 },
    ticks: { stroke: cssVar('--chart-grid'), width: 1 },
    font: '11px system-ui, sans-serif',
  };
  const bars = uPlot.paths.bars;
  return {
    width,
    height: 170,
    padding: [8, 20, 0, 0],
    legend: { show: false },
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
    axes: [
      { ...axis, values: (u, ticks) => ticks.map((t) => new Date(t * 1000).toTimeString().slice(0, 5)) },
      {
        ...axis,
        size: 44,
        values: (u, ticks) => ticks.map((v) => (v >= 10000 ? `${Math.round(v / 1000)}k` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v)),
      },
    ],
    series: [
      {},
      {
        label: 'allocations',
        stroke: cssVar('--chart-alloc'),
        fill: cssVar('--chart-alloc'),
        width: 0,
        points: { show: false },
        paths: bars({ size: [0.42, 24], align: -1 }),
      },
      {
        label: 'releases',
        stroke: cssVar('--chart-release'),
        fill: cssVar('--chart-release'),
        width: 0,
        points: { show: false },
        paths: bars({ size: [0.42, 24], align: 1 }),
      },
      { label: 'expirations', stroke: cssVar('--chart-expire'), width: 1.5, dash: [4, 3], points: { show: false } },
    ],
  };
}

export function RatesChart({ refreshKey }) {
  const box = useRef(null);
  const plot = useRef(null);
  const [rates, setRates] = useState(null);
  const [error, setError] = useState(null);
  const [theme] = useTheme();
  const latest = useRef(null);
  latest.current = rates;

  const load = () =>
    get('/v1/stats/rates?window_s=3600&step_s=60').then(
      (r) => {
        setRates(r);
        setError(null);
      },
      (err) => setError(err),
    );
  useEffect(() => {
    load();
  }, [refreshKey]);
  useInterval(load, REFRESH_MS);

  // (Re)create the chart when the theme changes; update its data in place otherwise.
  useEffect(() => {
    if (!box.current || !rates) return undefined;
    let u = null;
    let ro = null;
    let cancelled = false;
    loadUPlot().then(
      (uPlot) => {
        if (cancelled || !box.current) return;
        const width = Math.max(200, box.current.clientWidth);
        u = new uPlot(makeOptions(uPlot, width), toColumns(latest.current), box.current);
        plot.current = u;
        ro = new ResizeObserver(() => {
          const w = Math.max(200, box.current ? box.current.clientWidth : width);
          if (Math.abs(w - u.width) > 2) u.setSize({ width: w, height: 170 });
        });
        ro.observe(box.current);
      },
      (err) => !cancelled && setError(err),
    );
    return () => {
      cancelled = true;
      if (ro) ro.disconnect();
      if (u) u.destroy();
      plot.current = null;
    };
  }, [theme, !!rates]);

  useEffect(() => {
    if (plot.current && rates) plot.current.setData(toColumns(rates));
  }, [rates]);

  const totals = (rates?.buckets || []).reduce(
    (t, b) => ({ a: t.a + (b.allocations || 0), r: t.r + (b.releases || 0), e: t.e + (b.expirations || 0) }),
    { a: 0, r: 0, e: 0 },
  );

  return (
    <section class="panel" aria-labelledby="rates-title" data-testid="rates">
      <div class="panel-head">
        <h2 id="rates-title">Allocations and releases</h2>
        <span class="hint">per minute, last hour</span>
      </div>
      <div class="chart-legend">
          <span>
            <i class="dot" style={{ background: 'var(--chart-alloc)' }} />
            allocations <b data-testid="rates-alloc-total">{totals.a}</b>
          </span>
          <span>
            <i class="dot" style={{ background: 'var(--chart-release)' }} />
            releases <b data-testid="rates-release-total">{totals.r}</b>
          </span>
          <span>
            <i class="dot" style={{ background: 'var(--chart-expire)' }} />
            expirations <b>{totals.e}</b>
          </span>
      </div>
      <ErrorBox error={error} what="the rates" />
      {!rates && !error ? <div class="loading">Loading…</div> : null}
      <div class="chart-box" ref={box} role="img" aria-label="Bar chart of allocations and releases per minute over the last hour" />
    </section>
  );
}
