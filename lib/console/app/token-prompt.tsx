// Asked for when the API answers 401: the local stack requires an API token (`cascade token
// create`). It is kept in this tab's sessionStorage and sent with every request.
import { useEffect, useRef, useState } from 'preact/hooks';
import { saveApiToken } from './api-token';

export function TokenPrompt() {
  const [token, setToken] = useState('');
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = (event: Event) => {
    event.preventDefault();
    const value = token.trim();
    if (value !== '') saveApiToken(value);
  };
  return (
    <section class="token-prompt" role="dialog" aria-modal="false" aria-labelledby="token-title">
      <h2 id="token-title">This cascade requires an API token</h2>
      <p>
        Paste a token made with <code>cascade token create --name NAME</code>. It is kept in this tab only, until the tab is closed.
      </p>
      <form onSubmit={submit}>
        <label for="api-token">API token</label>
        <input id="api-token" ref={input} type="password" autocomplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        <button type="submit">Use this token</button>
      </form>
    </section>
  );
}
