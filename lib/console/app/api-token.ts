// The local stack's API token, when it asks for one: typed in once per browser tab and kept in
// sessionStorage (gone when the tab closes), sent as `Authorization: Bearer`.
const KEY = 'cascade.apiToken';

type Listener = () => void;
const listeners = new Set<Listener>();
let needed = false;

export function savedApiToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined; // storage refused (a locked-down browser): no token kept
  }
}

export function saveApiToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Not kept: every request of this page still uses the answer below until a reload.
  }
  memoryToken = token;
  needed = false;
  notify();
}

export function forgetApiToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing kept
  }
  memoryToken = undefined;
}

let memoryToken: string | undefined;

/** The token to send, if any. */
export function currentApiToken(): string | undefined {
  return memoryToken ?? savedApiToken();
}

/** The API answered 401: the console asks for a token (again). */
export function markApiTokenNeeded(): void {
  if (needed) return;
  needed = true;
  forgetApiToken();
  notify();
}

export function apiTokenNeeded(): boolean {
  return needed;
}

/** Called when the token is asked for or given; returns the unsubscribe function. */
export function onApiTokenChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const listener of listeners) listener();
}
