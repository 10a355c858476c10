// Light and dark: follows prefers-color-scheme until the user picks one with the toggle, which is
// remembered in localStorage. Either way the theme in force is <html data-theme>, the one switch
// the style sheet knows.
import { useEffect, useState } from 'preact/hooks';

const KEY = 'netledger.theme';
const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;

function remembered() {
  try {
    const saved = localStorage.getItem(KEY);
    return saved === 'light' || saved === 'dark' ? saved : null;
  } catch {
    return null; // storage disabled: follow the system
  }
}

function system() {
  return media && media.matches ? 'dark' : 'light';
}

function apply(theme) {
  document.documentElement.dataset.theme = theme;
  window.dispatchEvent(new CustomEvent('netledger-theme', { detail: theme }));
}

// Applied as soon as the bundle runs (the server's Content-Security-Policy allows no inline
// script in index.html; the page is empty until then anyway).
document.documentElement.dataset.theme = remembered() || system();
if (media) media.addEventListener('change', () => remembered() || apply(system()));

function current() {
  return document.documentElement.dataset.theme;
}

export function useTheme() {
  const [theme, setThemeState] = useState(current);
  useEffect(() => {
    const onChange = () => setThemeState(current());
    window.addEventListener('netledger-theme', onChange);
    return () => window.removeEventListener('netledger-theme', onChange);
  }, []);
  const setTheme = (t) => {
    try {
      localStorage.setItem(KEY, t);
    } catch {
      // not remembered, still applied
    }
    apply(t);
  };
  return [theme, setTheme];
}

/** Reads a CSS custom property (the canvas and the chart take their colors from the theme). */
export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
