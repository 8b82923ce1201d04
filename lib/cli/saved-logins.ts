// Where `cascade login --token-stdin` keeps API tokens: one file only its owner may read,
// `$XDG_CONFIG_HOME/cascade/logins.json` (else `~/.config/cascade/logins.json`), a token per API.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readPrivateFile, writePrivateFile } from '../adapters/private-file';

type Logins = Record<string, { token: string; savedAt: string }>;

export function loginsFile(env: NodeJS.ProcessEnv): string {
  const config = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.config');
  return join(config, 'cascade', 'logins.json');
}

/** The API a login is for: its URL without a trailing slash, so `http://h:3000/` and `http://h:3000` are one. */
function apiKey(apiUrl: string): string {
  return apiUrl.replace(/\/+$/, '');
}

export async function savedToken(env: NodeJS.ProcessEnv, apiUrl: string): Promise<string | undefined> {
  return (await load(env))[apiKey(apiUrl)]?.token;
}

export async function saveToken(env: NodeJS.ProcessEnv, apiUrl: string, token: string, now = new Date()): Promise<string> {
  const logins = await load(env);
  logins[apiKey(apiUrl)] = { token, savedAt: now.toISOString() };
  const file = loginsFile(env);
  await writePrivateFile(file, JSON.stringify(logins, null, 2) + '\n');
  return file;
}

/** Whether there was a login to forget. */
export async function forgetToken(env: NodeJS.ProcessEnv, apiUrl: string): Promise<boolean> {
  const logins = await load(env);
  if (!Object.hasOwn(logins, apiKey(apiUrl))) return false;
  delete logins[apiKey(apiUrl)];
  await writePrivateFile(loginsFile(env), JSON.stringify(logins, null, 2) + '\n');
  return true;
}

async function load(env: NodeJS.ProcessEnv): Promise<Logins> {
  const file = loginsFile(env);
  const text = await readPrivateFile(file);
  const logins = Object.create(null) as Logins;
  if (text === undefined) return logins;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON: fix it, or remove it and log in again`);
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    for (const [api, login] of Object.entries(parsed as Record<string, unknown>)) {
      const { token, savedAt } = (login ?? {}) as { token?: unknown; savedAt?: unknown };
      if (typeof token === 'string') logins[api] = { token, savedAt: typeof savedAt === 'string' ? savedAt : '' };
    }
  }
  return logins;
}
