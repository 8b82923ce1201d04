// How each provider's sender proves a delivery genuine, as the tests play the sender: the headers
// (and, for senders that can do neither, the URL path secret) for a body and a webhook secret.
import { createHmac } from 'node:crypto';

export interface SignedDelivery {
  headers: Record<string, string>;
  pathSecret?: string;
}
export type Signer = (body: Buffer, secret: string) => SignedDelivery;

const hmacHex = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');

export const bearer: Signer = (_body, secret) => ({ headers: { authorization: `Bearer ${secret}` } });
export const inPath: Signer = (_body, secret) => ({ headers: {}, pathSecret: secret });
export const githubHmac =
  (event: string): Signer =>
  (body, secret) => ({ headers: { 'x-hub-signature-256': `sha256=${hmacHex(secret, body)}`, 'x-github-event': event } });
export const jfrogHmac: Signer = (body, secret) => ({ headers: { 'x-jfrog-event-auth': hmacHex(secret, body) } });
export const jfrogToken: Signer = (_body, secret) => ({ headers: { 'x-jfrog-event-auth': secret } });
export const gitlabToken =
  (event: string): Signer =>
  (_body, secret) => ({ headers: { 'x-gitlab-token': secret, 'x-gitlab-event': event } });
export const bitbucketHmac =
  (eventKey: string): Signer =>
  (body, secret) => ({ headers: { 'x-hub-signature': `sha256=${hmacHex(secret, body)}`, 'x-event-key': eventKey } });
/** Gitea, Forgejo and Gogs sign alike, bare hex, under their own header names. */
export const forgeHmac =
  (forge: 'gitea' | 'forgejo' | 'gogs'): Signer =>
  (body, secret) => ({ headers: { [`x-${forge}-signature`]: hmacHex(secret, body), [`x-${forge}-event`]: 'push' } });
export const azureBasic: Signer = (_body, secret) => ({ headers: { authorization: `Basic ${Buffer.from(`cascade:${secret}`).toString('base64')}` } });

/** Every way each provider's senders sign; a provider missing here fails the fuzz test. */
export const SIGNERS: Record<string, Signer[]> = {
  distribution: [bearer],
  ecr: [bearer],
  acr: [bearer],
  dockerhub: [inPath],
  harbor: [bearer],
  quay: [inPath],
  ghcr: [githubHmac('package'), githubHmac('registry_package')],
  gar: [inPath],
  artifactory: [jfrogHmac, jfrogToken],
  github: [githubHmac('push'), githubHmac('ping')],
  gitlab: [gitlabToken('Push Hook')],
  bitbucket: [bitbucketHmac('repo:push'), bitbucketHmac('repo:refs_changed')],
  gitea: [forgeHmac('gitea'), forgeHmac('forgejo'), forgeHmac('gogs')],
  'azure-devops': [azureBasic],
};
