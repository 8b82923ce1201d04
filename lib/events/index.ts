import { ValidationError } from '../domain/errors';
import { distributionProvider } from './distribution';
import { githubProvider } from './github';
import type { WebhookProvider } from './provider';

export type { NormalizeResult, WebhookProvider, WebhookRequest } from './provider';
export { acceptsContentType, mediaType } from './content-type';
export { normalizeGitUrl } from './git-url';

/** Every provider, by the name a webhook is created with. */
export const providers: Record<string, WebhookProvider> = {
  [distributionProvider.name]: distributionProvider,
  [githubProvider.name]: githubProvider,
};

export function getProvider(name: string): WebhookProvider {
  // hasOwn: a name like "constructor" must not reach Object.prototype.
  const provider = Object.hasOwn(providers, name) ? providers[name] : undefined;
  if (!provider) {
    throw new ValidationError(
      `unknown webhook provider "${name}"; use one of: ${Object.keys(providers).join(', ')}`,
      'provider',
    );
  }
  return provider;
}
