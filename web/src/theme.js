// Light and dark: follows prefers-color-scheme until the user picks one with the toggle, which is
// remembered in localStorage and applied as <html data-theme>.
import { useEffect, useState } from 'preact/hooks';

const KEY = 'netledger.theme';

// Apply the remembered choice as soon as the bundle runs (the server's Content-Security-Policy
// allows no inline script in index.html). Until then the page follows prefers-color-scheme.
try {
  const saved = localStorage.getItem(KEY);
  if (saved === 'light' || saved === 'dark') document.documentElement.dataset.theme = saved;
} catch {
  // storage disabled: follow the system
}
const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;

function current() {
  const forced = document.documentElement.dataset.theme;
  if (forced === 'light' || forced === 'dark') return forced;
  return media && media.matches ? 'dark' : 'light';
}

export function useTheme() {
  const [theme, setThemeState] = useState(current);
  useEffect(() => {
    const onChange = () => setThemeState(current());
    if (media) media.addEventListener('change', onChange);
    window.addEventListener('netledger-theme', onChange);
    return () => {
      if (media) media.removeEventListener('change', onChange);
      window.removeEventListener('netledger-theme', onChange);
    };
  }, []);
  const setTheme = (t) => {
    document.documentElement.dataset.theme = t;
    try {
      localStorage.setItem(KEY, t);
    } catch {
      // not remembered, still applied
    }
    setThemeState(t);
    window.dispatchEvent(new CustomEvent('netledger-theme', { detail: t }));
  };
  return [theme, setTheme];
}

/** Reads a CSS custom property (the canvas and the chart take their colors from the theme). */
export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
