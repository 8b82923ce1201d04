import { redact, REDACTED } from '../../../lib/adapters/redact';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

describe('redact', () => {
  const cases: Array<{ name: string; text: string; secrets: Parameters<typeof redact>[1]; expected: string }> = [
    { name: 'plain secret, every occurrence', text: 'pw=s3cret! again s3cret!', secrets: ['s3cret!'], expected: `pw=${REDACTED} again ${REDACTED}` },
    { name: 'base64 of the secret', text: `token ${b64('s3cret!')} end`, secrets: ['s3cret!'], expected: `token ${REDACTED} end` },
    { name: 'unpadded base64', text: `x ${b64('ab')!.replace(/=+$/, '')}.`, secrets: ['ab'], expected: `x ${REDACTED}.` },
    {
      name: 'user:pass base64 from a basic auth header',
      text: `Authorization: Basic ${b64('alice:hunter22')}`,
      secrets: [{ username: 'alice', password: 'hunter22' }],
      expected: `Authorization: Basic ${REDACTED}`,
    },
    {
      name: 'authfile entry',
      text: JSON.stringify({ auths: { 'r:5000': { auth: b64('bob:pa$$+/word') } } }),
      secrets: [{ username: 'bob', password: 'pa$$+/word' }],
      expected: JSON.stringify({ auths: { 'r:5000': { auth: REDACTED } } }),
    },
    { name: 'regex metacharacters are literal', text: 'a.b*c a1bbc', secrets: ['a.b*c'], expected: `${REDACTED} a1bbc` },
    { name: 'a secret containing another is hidden whole', text: 'abcdef', secrets: ['cd', 'abcdef'], expected: REDACTED },
    { name: 'empty secrets are ignored', text: 'nothing to hide', secrets: ['', { username: '', password: '' }], expected: 'nothing to hide' },
    { name: 'other text is untouched', text: 'STEP 1/2: FROM x', secrets: ['zzz'], expected: 'STEP 1/2: FROM x' },
  ];
  it.each(cases)('$name', ({ text, secrets, expected }) => {
    expect(redact(text, secrets)).toBe(expected);
  });
});
