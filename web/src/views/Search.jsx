// One box for IP, MAC, instance or host; results as you type (GET /v1/bindings?q=).
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, query } from '../api.js';
import { replaceParams } from '../router.js';
import { BindingState, ErrorBox, useDebounced } from '../components/common.jsx';
import { fmtAgo } from '../util.js';

const LIMIT = 50;

export async function searchBindings(text, signal) {
  const r = await get(`/v1/bindings${query({ q: text, limit: LIMIT })}`, { signal });
  return { items: r.items || [] };
}

export function Search({ initial }) {
  const [text, setText] = useState(initial);
  const q = useDebounced(text.trim(), 150);
  const [result, setResult] = useState({ q: '', items: [] });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const input = useRef(null);

  useEffect(() => {
    input.current?.focus();
  }, []);

  useEffect(() => {
    replaceParams('/search', { q });
    if (!q) {
      setResult({ q: '', items: [] });
      setError(null);
      setBusy(false); // a search aborted by clearing the box is not still running
      return undefined;
    }
    const controller = new AbortController();
    setBusy(true);
    searchBindings(q, controller.signal).then(
      (r) => {
        setResult({ q, ...r });
        setError(null);
        setBusy(false);
      },
      (err) => {
        if (err?.name === 'AbortError') return;
        setError(err);
        setBusy(false);
      },
    );
    return () => controller.abort();
  }, [q]);

  return (
    <div data-testid="search-view">
      <div class="page-head">
        <h1>Search</h1>
        <span class="sub">bindings by IP, MAC, instance or host</span>
      </div>
      <div class="panel">
        <label class="visually-hidden" for="search-input">
          Search bindings
        </label>
        <input
          id="search-input"
          ref={input}
          class="searchbox"
          type="search"
          placeholder="192.0.2.10, 52:54:00:…, vm-name or host"
          autocomplete="off"
          spellcheck={false}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          data-testid="search-input"
        />
        <div class="muted" style={{ margin: '6px 0 10px', minHeight: '19px' }} aria-live="polite" data-testid="search-status" data-q={busy ? '' : result.q}>
          {busy
            ? 'Searching…'
            : result.q
              ? `${result.items.length}${result.items.length >= LIMIT ? '+' : ''} binding${result.items.length === 1 ? '' : 's'} for “${result.q}”`
              : 'IP and MAC match by prefix; instance and host by substring.'}
        </div>
        <ErrorBox error={error} what="search results" />
        {result.items.length ? (
          <table class="data" data-testid="search-results">
            <thead>
              <tr>
                <th>Instance</th>
                <th>Addresses</th>
                <th>MAC</th>
                <th>Host</th>
                <th>State</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {result.items.map((b) => (
                <tr
                  class="clickable"
                  data-testid="search-result"
                  data-binding={b.id}
                  onClick={(e) => {
                    if (e.target.tagName !== 'A') location.hash = `#/bindings/${encodeURIComponent(b.id)}`;
                  }}
                >
                  <td>
                    <a href={`#/bindings/${encodeURIComponent(b.id)}`}>{b.instance}</a>
                    {b.interface ? <span class="muted">/{b.interface}</span> : null}
                  </td>
                  <td class="mono">{(b.addresses || []).join(', ') || <span class="faint">none</span>}</td>
                  <td class="mono">{b.mac || <span class="faint">–</span>}</td>
                  <td>{b.host || <span class="faint">–</span>}</td>
                  <td>
                    <BindingState state={b.state} />
                  </td>
                  <td class="muted nowrap" title={b.updated_at}>
                    {fmtAgo(b.updated_at)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : result.q && !busy && !error ? (
          <div class="empty" data-testid="search-empty">
            Nothing matches “{result.q}”.
          </div>
        ) : null}
      </div>
    </div>
  );
}
