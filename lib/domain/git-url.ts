// One spelling per git repository, so that a push notification (GitHub sends clone_url) finds
// the tasks whose context names the same repository in any other form.
import { ValidationError } from '../domain/errors';

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443', 'ssh:': '22', 'git+ssh:': '22', 'ssh+git:': '22', 'git:': '9418' };
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
// git's scp-like syntax: [user@]host:path, recognised only when no slash comes before the colon.
const SCP_LIKE = /^(?:[^@/\s]+@)?(\[[0-9a-f:.]+\]|[^:/\s[\]]+):(?!\/\/)(.+)$/i;
// A schemeless host/path, as normalizeGitUrl itself returns (so normalizing twice changes nothing).
const HOST_PATH = /^((?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+|\[[0-9a-f:.]+\])(?::\d+)?)\/(.+)$/i;

function invalid(url: string, why: string): ValidationError {
  return new ValidationError(`"${url}" is not a git repository URL: ${why}`, 'url');
}

function decode(url: string, path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    throw invalid(url, 'bad percent-encoding');
  }
}

/** `owner/repo` out of `/Owner/Repo.git/`: no surrounding or doubled slashes, no `.git`. */
function repoPath(url: string, path: string): string {
  const trimmed = path.split('/').filter((segment) => segment !== '').join('/').replace(/\.git$/i, '');
  if (trimmed === '') throw invalid(url, 'no repository path');
  return trimmed;
}

/**
 * `https://GitHub.com/Owner/Repo.git/`, `ssh://git@github.com/owner/repo`, `git@github.com:owner/repo.git`
 * → `github.com/owner/repo`. Credentials, default ports and `.git` are dropped; host and path are
 * lower-cased (hosting services treat repository paths case-insensitively). Local repositories
 * (`file://` URLs and absolute paths) become `file://<path>`, case and `.git` kept: on a disk
 * those are different directories.
 */
export function normalizeGitUrl(input: string): string {
  const url = input.trim();
  if (url === '') throw invalid(input, 'empty');

  if (url.startsWith('/')) return `file://${url.replace(/\/+$/, '') || '/'}`;

  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'file') {
    const path = decode(url, new URL(url).pathname);
    return `file://${path.replace(/\/+$/, '') || '/'}`;
  }
  if (scheme !== undefined) {
    if (!(`${scheme}:` in DEFAULT_PORTS)) throw invalid(url, `unsupported scheme ${scheme}`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalid(url, 'malformed URL');
    }
    if (parsed.hostname === '') throw invalid(url, 'no host');
    const port = parsed.port && parsed.port !== DEFAULT_PORTS[parsed.protocol] ? `:${parsed.port}` : '';
    return `${parsed.hostname}${port}/${repoPath(url, decode(url, parsed.pathname))}`.toLowerCase();
  }

  const hostPath = HOST_PATH.exec(url);
  if (hostPath) return `${hostPath[1]}/${repoPath(url, decode(url, hostPath[2]!))}`.toLowerCase();

  const scp = SCP_LIKE.exec(url);
  if (scp) return `${scp[1]}/${repoPath(url, scp[2]!)}`.toLowerCase();

  throw invalid(url, 'expected https://, ssh://, git://, file://, user@host:path or an absolute path');
}

/** `Server.Example:7999` → `server.example`: a git server's HTTPS and SSH URLs may differ in port only. */
export function gitHost(hostAndPort: string): string {
  return hostAndPort.trim().toLowerCase().replace(/:\d+$/, '');
}

/** Host (as gitHost gives it) and path of a URL normalizeGitUrl gave; undefined for a local repository. */
export function gitUrlParts(normalized: string): { host: string; path: string } | undefined {
  if (normalized.startsWith('file://')) return undefined;
  const slash = normalized.indexOf('/');
  return { host: gitHost(normalized.slice(0, slash)), path: normalized.slice(slash + 1) };
}
