// The operator's console: sign-in, then the live bindings (and the other views) of the
// account chosen among those the token may act on. Views are addressed by the URL hash, so the
// static server has one page to serve.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { onSignedOut, request, Session, storedToken, storeToken } from './api';
import { BindingsView } from './bindings-view';
import { ChartsView } from './charts-view';
import { HealthView } from './health-view';
import { TimelineView } from './timeline-view';
import { SignIn } from './sign-in';
import './styles.css';

type View = 'bindings' | 'charts' | 'timeline' | 'health';
const VIEWS: View[] = ['bindings', 'charts', 'timeline', 'health'];

function parseHash(): { view: View; params: URLSearchParams } {
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const view: View = VIEWS.find((v) => v === path) ?? 'bindings';
  return { view, params: new URLSearchParams(query ?? '') };
}

function App() {
  const [session, setSession] = useState<Session | undefined>();
  const [checking, setChecking] = useState(storedToken() !== null);
  const [notice, setNotice] = useState<string | undefined>();
  const [route, setRoute] = useState(parseHash());

  useEffect(() => {
    const onHash = () => setRoute(parseHash());
    window.addEventListener('hashchange', onHash);
    const off = onSignedOut((reason) => {
      setSession(undefined);
      setNotice(reason);
    });
    if (storedToken() !== null) {
      request<Session>('GET', '/v2/console/session')
        .then((r) => setSession(r.data))
        .catch(() => undefined)
        .finally(() => setChecking(false));
    }
    return () => {
      window.removeEventListener('hashchange', onHash);
      off();
    };
  }, []);

  if (checking) return <p class="loading">Loading…</p>;
  if (!session)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(token, s) => {
          storeToken(token);
          setNotice(undefined);
          setSession(s);
        }}
      />
    );

  const accountId = route.params.get('account') ?? session.account_id;
  const known = session.accounts.find((a) => a.id === accountId);
  const label = known ? (known.name ?? known.realm ?? known.id) : accountId;
  const go = (view: View, account = accountId) => {
    location.hash = `#/${view}?account=${account}`;
  };

  return (
    <div class="shell">
      <header>
        <h1>Registrations</h1>
        <nav aria-label="Views">
          {VIEWS.map((v) => (
            <a key={v} href={`#/${v}?account=${accountId}`} aria-current={route.view === v}>
              {v[0].toUpperCase() + v.slice(1)}
            </a>
          ))}
        </nav>
        <label class="account">
          Account
          <select
            name="account"
            value={accountId}
            onChange={(e) => go(route.view, (e.target as HTMLSelectElement).value)}
          >
            {!known && <option value={accountId}>{accountId}</option>}
            {session.accounts.map((a) => (
              <option key={a.id} value={a.id}>
                {a.parent_id && a.id !== session.account_id ? '↳ ' : ''}
                {a.name ?? a.realm ?? a.id}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() => {
            storeToken(null);
            setSession(undefined);
            setNotice('Signed out.');
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        {route.view === 'bindings' && (
          <BindingsView key={accountId} accountId={accountId} accountLabel={label} />
        )}
        {route.view === 'charts' && <ChartsView key={accountId} accountId={accountId} />}
        {route.view === 'health' && <HealthView />}
        {route.view === 'timeline' && (
          <TimelineView accountId={accountId} user={route.params.get('user') ?? ''} />
        )}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
