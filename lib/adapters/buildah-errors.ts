// Turns buildah's and git's error output into the short reason a person needs. buildah wraps
// the registry's words in layers of context ("initializing source docker://…: reading
// manifest … in …: unauthorized: authentication required"); only the innermost part matters.

// Error codes of the OCI distribution spec, as registries spell them in messages.
const REGISTRY_CODES = [
  'unauthorized',
  'denied',
  'manifest unknown',
  'manifest invalid',
  'manifest blob unknown',
  'name unknown',
  'name invalid',
  'blob unknown',
  'blob upload unknown',
  'blob upload invalid',
  'digest invalid',
  'size invalid',
  'tag invalid',
  'unsupported',
  'toomanyrequests',
];
const REGISTRY_CODE = new RegExp(`(?:^|: )(${REGISTRY_CODES.join('|')}): (.*)$`, 'i');

/** The last error line of a command's stderr, without buildah's "Error: " or git's "fatal: " prefix. */
export function lastErrorLine(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const marked = [...lines].reverse().find((l) => /^(Error|error|fatal):\s/.test(l));
  const line = marked ?? lines[lines.length - 1];
  return line?.replace(/^(Error|error|fatal):\s*/, '').trim();
}

/**
 * The registry's reason for a failed pull or push: its own error code and message when it sent
 * one, what kept us from reaching it otherwise, and the last error line failing both.
 */
export function registryReason(stderr: string): string {
  const line = lastErrorLine(stderr);
  if (line === undefined) return 'no error output';
  const code = REGISTRY_CODE.exec(line);
  if (code) {
    const [, name = '', message = ''] = code;
    // distribution repeats the code as the message ("manifest unknown: manifest unknown").
    return message.trim().toLowerCase() === name.toLowerCase() || message.trim() === '' ? name : `${name}: ${message.trim()}`;
  }
  const ping = /pinging container registry ([^:\s]+(?::\d+)?): (.*)$/.exec(line);
  if (ping) {
    const [, host = '', detail = ''] = ping;
    if (/HTTP response to HTTPS client/i.test(detail)) {
      return `${host} speaks plain HTTP; list it as an insecure registry`;
    }
    if (/x509|certificate/i.test(detail)) return `the TLS certificate of ${host} is not trusted (${innermost(detail)})`;
    return `cannot reach ${host}: ${innermost(detail)}`;
  }
  return line;
}

/** A build's reason: buildah names the failing step ("building at STEP \"RUN false\": …"). */
export function buildReason(stderr: string): string {
  return lastErrorLine(stderr) ?? 'no error output';
}

function innermost(detail: string): string {
  const parts = detail.split(': ');
  return (parts[parts.length - 1] ?? detail).trim();
}
