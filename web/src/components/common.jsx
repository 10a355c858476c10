// Small shared pieces: data loading, error display, badges.
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import { get } from '../api.js';
import { humanKind } from '../util.js';

/**
 * Loads `path` (GET) whenever it changes; returns { data, error, loading, reload }. A null path
 * loads nothing. Responses to a superseded path are dropped.
 */
export function useApi(path, { keepPrevious = false } = {}) {
  const [state, setState] = useState({ data: null, error: null, loading: !!path });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) {
      setState({ data: null, error: null, loading: false });
      return undefined;
    }
    const controller = new AbortController();
    setState((s) => ({ data: keepPrevious ? s.data : null, error: null, loading: true }));
    get(path, { signal: controller.signal }).then(
      (data) => setState({ data, error: null, loading: false }),
      (error) => {
        if (error?.name === 'AbortError') return;
        setState({ data: null, error, loading: false });
      },
    );
    return () => controller.abort();
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function useDebounced(value, ms) {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function useInterval(fn, ms) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (!ms) return undefined;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms]);
}

export function ErrorBox({ error, what }) {
  if (!error) return null;
  const text = error.message || String(error);
  let head = what ? `Could not load ${what}` : 'Error';
  if (error.status === 403) head = 'Not allowed';
  return (
    <div class="error" role="alert" data-testid="error">
      <strong>{head}</strong>
      {error.status ? <span class="muted"> (HTTP {error.status}{error.code ? `, ${error.code}` : ''})</span> : null}
      {': '}
      {text}
    </div>
  );
}

export function SeverityBadge({ severity }) {
  return (
    <span class={`sev sev-${severity}`} data-testid="severity">
      {severity}
    </span>
  );
}

export function StatusBadge({ status }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

export function Kind({ kind }) {
  return <span>{humanKind(kind)}</span>;
}

export const STATE_INFO = {
  u: { key: 'used', label: 'used', color: '--st-used' },
  c: { key: 'conflict', label: 'in conflict', color: '--st-conflict' },
  q: { key: 'quarantined', label: 'quarantined', color: '--st-quarantined' },
  p: { key: 'probing', label: 'probing', color: '--st-probing' },
  r: { key: 'reserved', label: 'reserved', color: '--st-reserved' },
  '.': { key: 'free', label: 'free', color: '--st-free' },
  '-': { key: 'unusable', label: 'unusable (network, broadcast)', color: '--st-unusable' },
};

export function BindingState({ state }) {
  const color =
    state === 'active'
      ? '--st-used'
      : state === 'reserved'
        ? '--st-reserved'
        : state === 'released' || state === 'expired'
          ? '--st-quarantined'
          : '--faint';
  return (
    <span class="state">
      <i class="dot" style={{ background: `var(${color})` }} />
      {state}
    </span>
  );
}

/** A two-column key/value table (binding and pool details). `rows`: [[label, value], ...]. */
export function KeyValues({ rows, testid }) {
  return (
    <table class="kv" data-testid={testid}>
      <tbody>
        {rows.map(([k, v]) => (
          <tr>
            <th>{k}</th>
            <td>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
