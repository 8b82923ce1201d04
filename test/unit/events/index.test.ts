import { ValidationError } from '../../../lib/domain/errors';
import { getProvider, providers } from '../../../lib/events';

describe('provider map', () => {
  it.each([
    ['distribution', 'registry'],
    ['github', 'git'],
  ])('%s is a %s provider', (name, kind) => {
    const provider = getProvider(name);
    expect(provider.name).toBe(name);
    expect(provider.kind).toBe(kind);
  });

  it('lists each provider under its own name, with lower-case media types', () => {
    expect(Object.keys(providers).sort()).toEqual(['distribution', 'github']);
    for (const [key, provider] of Object.entries(providers)) {
      expect(provider.name).toBe(key);
      expect(provider.contentTypes.length).toBeGreaterThan(0);
      for (const type of provider.contentTypes) expect(type).toBe(type.toLowerCase());
    }
  });

  it.each(['gitlab', 'GitHub', '', 'constructor', '__proto__', 'toString'])('%j is unknown', (name) => {
    expect(() => getProvider(name)).toThrow(ValidationError);
    expect(() => getProvider(name)).toThrow(/unknown webhook provider .*use one of: distribution, github/);
  });
});
