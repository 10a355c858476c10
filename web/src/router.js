// Hash routing: #/, #/pools/NAME, #/search?q=, #/bindings/ID, #/conflicts?id=, #/audit.
// The server serves one index.html at /, so every view lives behind the '#'.
import { useEffect, useState } from 'preact/hooks';

export function parseHash(hash = location.hash) {
  const raw = hash.replace(/^#/, '') || '/';
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { path, segments, params };
}

export function href(path, params) {
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v != null)).toString() : '';
  return `#${path}${q ? `?${q}` : ''}`;
}

export function navigate(path, params) {
  location.hash = href(path, params).slice(1);
}

/** Changes the URL's query without a new history entry (search-as-you-type, filters). */
export function replaceParams(path, params) {
  const url = `${location.pathname}${location.search}${href(path, params)}`;
  history.replaceState(history.state, '', url);
}

export function useRoute() {
  const [route, setRoute] = useState(() => parseHash());
  useEffect(() => {
    const onChange = () => {
      // Marks the start of a view change, so views can measure route change -> drawn.
      performance.mark('route-change');
      setRoute(parseHash());
    };
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
