import { ValidationError } from '../../../lib/domain/errors';
import { getProvider, providers } from '../../../lib/events';
import { isRegistryProvider, REGISTRY_PROVIDER_NAMES } from '../../../lib/events/provider-names';

// The names users type after `cascade webhook create --provider`, as the webhook issue lists them.
const EXPECTED: Array<[string, 'registry' | 'git', 'header' | 'path']> = [
  ['distribution', 'registry', 'header'],
  ['ecr', 'registry', 'header'],
  ['acr', 'registry', 'header'],
  ['dockerhub', 'registry', 'path'],
  ['harbor', 'registry', 'header'],
  ['quay', 'registry', 'path'],
  ['ghcr', 'registry', 'header'],
  ['gar', 'registry', 'path'],
  ['artifactory', 'registry', 'header'],
  ['github', 'git', 'header'],
  ['gitlab', 'git', 'header'],
  ['bitbucket', 'git', 'header'],
  ['gitea', 'git', 'header'],
  ['azure-devops', 'git', 'header'],
];

describe('provider map', () => {
  it.each(EXPECTED)('%s is a %s provider with its secret in the %s', (name, kind, secretIn) => {
    const provider = getProvider(name);
    expect(provider.name).toBe(name);
    expect(provider.kind).toBe(kind);
    expect(provider.secretIn).toBe(secretIn);
  });

  it('lists exactly those providers, each under its own name, with lower-case media types', () => {
    expect(Object.keys(providers)).toEqual(EXPECTED.map(([name]) => name));
    for (const [key, provider] of Object.entries(providers)) {
      expect(provider.name).toBe(key);
      expect(provider.contentTypes.length).toBeGreaterThan(0);
      for (const type of provider.contentTypes) expect(type).toBe(type.toLowerCase());
    }
  });

  it.each(['GitHub', 'docker-hub', '', 'constructor', '__proto__', 'toString'])('%j is unknown', (name) => {
    expect(() => getProvider(name)).toThrow(ValidationError);
    expect(() => getProvider(name)).toThrow(/unknown webhook provider .*use one of: distribution, ecr, acr, .*azure-devops$/);
  });

  it('names the registry providers in provider-names.ts as index.ts knows them', () => {
    expect(REGISTRY_PROVIDER_NAMES).toEqual(EXPECTED.filter(([, kind]) => kind === 'registry').map(([name]) => name));
    for (const [name, kind] of EXPECTED) expect(isRegistryProvider(name)).toBe(kind === 'registry');
  });
});
