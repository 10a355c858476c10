import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './theme.js';
import './styles.css';
import { getToken, onUnauthorized, setToken } from './api.js';
import { SessionContext, validateToken } from './session.js';
import { useRoute } from './router.js';
import { useTheme } from './theme.js';
import { SignIn } from './views/SignIn.jsx';
import { Overview } from './views/Overview.jsx';
import { PoolView } from './views/Pool.jsx';
import { Search } from './views/Search.jsx';
import { BindingView } from './views/Binding.jsx';
import { Conflicts } from './views/Conflicts.jsx';
import { Audit } from './views/Audit.jsx';
import { PortMaps } from './views/PortMaps.jsx';
import { Health } from './views/Health.jsx';
import { ErrorBox } from './components/common.jsx';
import { prefetch } from './prefetch.js';

performance.mark('app-start');
// With a token from this tab's session, check it and (on the overview) fetch the overview's data
// at once, in parallel.
const initialSession = getToken() ? validateToken(getToken()) : null;
if (initialSession) initialSession.catch(() => {});
if (initialSession && /^#?\/?$/.test(location.hash)) {
  prefetch('/v1/pools');
  prefetch('/v1/conflicts/summary');
}

const NAV = [
  { path: '/', label: 'Overview', match: (s) => s.length === 0 || s[0] === 'pools' },
  { path: '/search', label: 'Search', match: (s) => s[0] === 'search' || s[0] === 'bindings' },
  { path: '/conflicts', label: 'Conflicts', match: (s) => s[0] === 'conflicts' },
  { path: '/portmaps', label: 'Port maps', match: (s) => s[0] === 'portmaps' },
  { path: '/health', label: 'Health', match: (s) => s[0] === 'health' },
  { path: '/audit', label: 'Audit', match: (s) => s[0] === 'audit' },
];

function ThemeToggle() {
  const [theme, setTheme] = useTheme();
  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      class="icon"
      data-testid="theme-toggle"
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
      onClick={() => setTheme(next)}
    >
      {theme === 'dark' ? '☀' : '☾'}
      <span>{theme === 'dark' ? 'Light' : 'Dark'}</span>
    </button>
  );
}

function Shell({ session, onSignOut }) {
  const route = useRoute();
  const s = route.segments;
  useEffect(() => {
    const titles = { pools: `Pool ${s[1]}`, search: 'Search', bindings: `Binding ${s[1]}`, conflicts: 'Conflicts', audit: 'Audit', portmaps: 'Port maps', health: 'Address health' };
    document.title = s.length ? `${titles[s[0]] || 'netledger'} · netledger` : 'netledger';
  }, [route.path]);
  let view;
  if (s.length === 0) view = <Overview />;
  else if (s[0] === 'pools' && s[1]) view = <PoolView name={s[1]} />;
  else if (s[0] === 'search') view = <Search initial={route.params.get('q') || ''} />;
  else if (s[0] === 'bindings' && s[1]) view = <BindingView id={s[1]} />;
  else if (s[0] === 'conflicts') view = <Conflicts params={route.params} />;
  else if (s[0] === 'audit') view = <Audit params={route.params} />;
  else if (s[0] === 'portmaps') view = <PortMaps params={route.params} />;
  else if (s[0] === 'health') view = <Health params={route.params} />;
  else view = <div class="empty">No such page: <code>#{route.path}</code>. <a href="#/">Back to the overview</a></div>;

  return (
    <SessionContext.Provider value={session}>
      <header class="topbar">
        <a class="brand" href="#/" aria-label="netledger home">
          <span class="brand-mark" aria-hidden="true">
            {Array.from({ length: 9 }, () => <i />)}
          </span>
          netledger
        </a>
        <nav class="nav" aria-label="Main">
          {NAV.map((n) => (
            <a href={`#${n.path}`} aria-current={n.match(s) ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <div class="spacer" />
        <div class="who" data-testid="whoami">
          {session.name ? <span data-testid="whoami-name">{session.name}</span> : null}
          <span class="role" data-testid="role" title="Your token's role">
            {session.role || 'role unknown'}
          </span>
        </div>
        <ThemeToggle />
        <button type="button" onClick={onSignOut} data-testid="sign-out">
          Sign out
        </button>
      </header>
      <main class="main">{view}</main>
    </SessionContext.Provider>
  );
}

function App() {
  const [session, setSession] = useState(null);
  const [checking, setChecking] = useState(() => !!getToken());
  const [notice, setNotice] = useState('');
  const [startError, setStartError] = useState(null);

  useEffect(() => {
    if (!initialSession) return;
    initialSession.then(
      (me) => {
        performance.mark('session-ready');
        setSession(me);
        setChecking(false);
      },
      (err) => {
        if (err.status === 401) {
          setToken(null);
          setNotice('Your session has ended: the token is no longer valid. Sign in again.');
        } else setStartError(err);
        setChecking(false);
      },
    );
  }, []);

  useEffect(
    () =>
      onUnauthorized(() => {
        setToken(null);
        setSession(null);
        setNotice('The server did not accept the token (401). Sign in again.');
      }),
    [],
  );

  const signOut = () => {
    setToken(null);
    setSession(null);
    setNotice('Signed out.');
  };

  if (checking) return <div class="loading" style={{ padding: '40px' }}>Checking your session…</div>;
  if (!session)
    return (
      <>
        {startError ? <ErrorBox error={startError} what="your session" /> : null}
        <SignIn
          notice={notice}
          onSignedIn={(token, me) => {
            setToken(token);
            setNotice('');
            setStartError(null);
            setSession(me);
          }}
        />
      </>
    );
  return <Shell session={session} onSignOut={signOut} />;
}

render(<App />, document.getElementById('app'));
