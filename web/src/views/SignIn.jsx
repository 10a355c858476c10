import { useState } from 'preact/hooks';
import { validateToken } from '../session.js';

export function SignIn({ notice, onSignedIn }) {
  const [token, setTokenText] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setError('Paste an API token first.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      const me = await validateToken(t);
      onSignedIn(t, me);
    } catch (err) {
      setError(
        err.status === 401
          ? 'The server does not accept this token (401). Check that it was copied whole.'
          : `Could not check the token: ${err.message}`,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="signin">
      <form class="panel" onSubmit={submit} aria-labelledby="signin-title">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true">
            {Array.from({ length: 9 }, () => <i />)}
          </span>
          netledger
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p class="muted" style={{ margin: 0 }}>
          Paste an API token. netledgerd writes the admin token to <code>DATA_DIR/admin.token</code>;
          other tokens come from <code>netledger token create</code>. The token is kept in this tab
          only (session storage).
        </p>
        {notice ? (
          <div class="notice" role="status" data-testid="signin-notice">
            {notice}
          </div>
        ) : null}
        <label class="field">
          <span>API token</span>
          <textarea
            name="token"
            rows={3}
            autocomplete="off"
            spellcheck={false}
            value={token}
            onInput={(e) => setTokenText(e.currentTarget.value)}
            onKeyDown={(e) => {
              // Enter signs in (a token has no line breaks); Shift+Enter is left alone.
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                e.currentTarget.form.requestSubmit();
              }
            }}
            data-testid="token-input"
          />
        </label>
        {error ? (
          <div class="error" role="alert" data-testid="signin-error">
            {error}
          </div>
        ) : null}
        <button type="submit" class="primary" disabled={busy} data-testid="sign-in">
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}
