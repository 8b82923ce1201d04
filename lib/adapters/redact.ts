// Secrets reach logs in more shapes than their plain text: registries and tools echo the
// base64 of the password or of `user:pass` (the form of an Authorization: Basic header or an
// authfile entry). Each shape is replaced with the same mask.

export const REDACTED = '***';

/** A plain secret, or a username and password whose `user:pass` form must also be hidden. */
export type SecretToHide = string | { username: string; password: string };

function base64Forms(value: string): string[] {
  const standard = Buffer.from(value, 'utf8').toString('base64');
  const unpadded = standard.replace(/=+$/, '');
  const urlSafe = unpadded.replace(/\+/g, '-').replace(/\//g, '_');
  return [standard, unpadded, urlSafe];
}

/** Every string that reveals one of `secrets`, longest first so no partial secret is left behind. */
export function secretForms(secrets: readonly SecretToHide[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    const plain = typeof secret === 'string' ? [secret] : [secret.password, `${secret.username}:${secret.password}`];
    for (const value of plain) {
      if (value.length === 0) continue;
      forms.add(value);
      for (const encoded of base64Forms(value)) if (encoded.length > 0) forms.add(encoded);
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** Replaces every occurrence of each secret, its base64 forms and its `user:pass` base64 with `***`. */
export function redact(text: string, secrets: readonly SecretToHide[]): string {
  let out = text;
  for (const form of secretForms(secrets)) out = out.split(form).join(REDACTED);
  return out;
}
