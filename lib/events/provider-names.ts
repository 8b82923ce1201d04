// The providers' names alone, for code that must not bundle every normalizer to know them
// (the poller asks which webhooks speak for a registry). A unit test keeps this equal to index.ts.
export const REGISTRY_PROVIDER_NAMES: readonly string[] = ['distribution', 'ecr', 'acr', 'dockerhub', 'harbor', 'quay', 'ghcr', 'gar', 'artifactory'];

export function isRegistryProvider(name: string): boolean {
  return REGISTRY_PROVIDER_NAMES.includes(name);
}
