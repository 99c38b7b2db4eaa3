// Sign-in: an API key (exchanged for a token) or a token (this product's or Kazoo's).
import { useEffect, useRef, useState } from 'preact/hooks';
import { signIn, Session } from './api';

export function SignIn(props: {
  notice?: string;
  onSignedIn: (token: string, s: Session) => void;
}) {
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // Focused from here: the autofocus attribute of an element rendered by script is honoured late.
  useEffect(() => input.current?.focus(), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { token, session } = await signIn(secret);
      props.onSignedIn(token, session);
    } catch (err) {
      setError((err as Error).message || 'sign-in failed');
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>Registrations console</h1>
      {props.notice && <p class="notice">{props.notice}</p>}
      <form onSubmit={submit}>
        <label for="secret">API key or token</label>
        <input
          id="secret"
          name="secret"
          type="password"
          autocomplete="off"
          required
          ref={input}
          value={secret}
          onInput={(e) => setSecret((e.target as HTMLInputElement).value)}
        />
        <p class="hint">
          An API key (64 hex digits) is exchanged for a token; a token (this service's or a Kazoo
          one) is used as it is. Only the token is kept, for this tab.
        </p>
        <button type="submit" disabled={busy || !secret.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
