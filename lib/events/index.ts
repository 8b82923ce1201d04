import { ValidationError } from '../domain/errors';
import { acrProvider } from './acr';
import { artifactoryProvider } from './artifactory';
import { azureDevopsProvider } from './azure-devops';
import { bitbucketProvider } from './bitbucket';
import { distributionProvider } from './distribution';
import { dockerhubProvider } from './dockerhub';
import { ecrProvider } from './ecr';
import { garProvider } from './gar';
import { ghcrProvider } from './ghcr';
import { giteaProvider } from './gitea';
import { githubProvider } from './github';
import { gitlabProvider } from './gitlab';
import { harborProvider } from './harbor';
import type { WebhookProvider, WebhookProviders } from '../domain/webhook-provider';
import { quayProvider } from './quay';

export { normalizeEcrEvent } from './ecr';

/** Every provider, by the name a webhook is created with: registries first, then git hosts. */
export const providers: Record<string, WebhookProvider> = Object.fromEntries(
  [
    distributionProvider,
    ecrProvider,
    acrProvider,
    dockerhubProvider,
    harborProvider,
    quayProvider,
    ghcrProvider,
    garProvider,
    artifactoryProvider,
    githubProvider,
    gitlabProvider,
    bitbucketProvider,
    giteaProvider,
    azureDevopsProvider,
  ].map((provider) => [provider.name, provider]),
);

/** The providers, as the domain looks them up (lib/domain/webhook-provider.ts). */
export const getProvider: WebhookProviders = (name) => {
  // hasOwn: a name like "constructor" must not reach Object.prototype.
  const provider = Object.hasOwn(providers, name) ? providers[name] : undefined;
  if (!provider) {
    throw new ValidationError(
      `unknown webhook provider "${name}"; use one of: ${Object.keys(providers).join(', ')}`,
      'provider',
    );
  }
  return provider;
};
