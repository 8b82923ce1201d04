// Amazon ECR image actions, as EventBridge delivers them: to a Lambda on a rule (normalizeEcrEvent)
// or, through an API destination whose connection adds `Authorization: Bearer <secret>`, over HTTP.
// One event per tag; only a successful tagged push is an update:
//
//   POST  Authorization: Bearer <secret>   Content-Type: application/json; charset=utf-8
//   { "version": "0", "id": "13cde686-…", "detail-type": "ECR Image Action", "source": "aws.ecr",
//     "account": "123456789012", "time": "2019-11-16T01:54:34Z", "region": "us-west-2", "resources": [],
//     "detail": { "result": "SUCCESS", "repository-name": "my-repository-name", "image-digest": "sha256:7f5b…",
//                 "action-type": "PUSH", "image-tag": "latest" } }
//
// An event forwarded from another account's bus keeps the `account` of the account that owns the
// repository, which is the registry the tasks pull from.
import * as z from 'zod';
import ecrEventPattern from './ecr-event-pattern.json';
import type { ImageDeleteEvent, ImageEvent } from '../domain/types';
import { digestProblem, repositoryProblem, tagProblem, toUtcIso } from './image-fields';
import { parseJson, validateAs } from './parse-json';
import type { NormalizeResult, WebhookProvider, WebhookRequest } from '../domain/webhook-provider';
import { authenticateBearer } from './verify';

/**
 * The ECR events cascade acts on, as an EventBridge pattern: written once, in JSON, because the
 * registryEvents rule in serverless.yml reads the same file, and the base account's forwarding
 * rule (infra/base-registry-pull-role.yml) holds a copy that test/unit/events/ecr-pattern.test.ts
 * keeps equal.
 */
export const ECR_EVENT_PATTERN: {
  source: string[];
  'detail-type': string[];
  detail: { 'action-type': string[]; result: string[] };
} = ecrEventPattern;

/** What each action of the pattern is called in reasons. */
const VERBS: Record<string, 'push' | 'delete'> = { PUSH: 'push', DELETE: 'delete' };

const envelopeSchema = z.object({
  id: z.string().min(1),
  source: z.string(),
  'detail-type': z.string(),
  account: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
  region: z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d+$/, 'expected an AWS region such as eu-west-1'),
  time: z.string(),
  detail: z.unknown(),
});

const detailSchema = z.object({
  result: z.string().min(1),
  'repository-name': z.string().min(1),
  // Absent on untagged deletes and on some failed pushes.
  'image-digest': z.string().optional(),
  'action-type': z.string().min(1),
  'image-tag': z.string().optional(),
});

/** The registry host of an account and region; China regions live under amazonaws.com.cn. */
function ecrHost(account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/**
 * The events of one EventBridge event, for a Lambda on an EventBridge rule (no HTTP, no
 * authentication: EventBridge vouches for the event) and for the HTTP webhook alike.
 * Throws ValidationError when the event is not an EventBridge event at all.
 */
export function normalizeEcrEvent(event: unknown): NormalizeResult {
  const envelope = validateAs(event, envelopeSchema, 'ecr event');
  const type = envelope['detail-type'];
  if (!ECR_EVENT_PATTERN.source.includes(envelope.source) || !ECR_EVENT_PATTERN['detail-type'].includes(type)) {
    return { events: [], ignored: [{ reason: `${envelope.source} event "${type}" is not an ECR image action` }] };
  }
  const detail = validateAs(envelope.detail, detailSchema, 'ecr event detail');
  const repository = detail['repository-name'];
  const tag = detail['image-tag'] || undefined;
  const digest = detail['image-digest'] || undefined;
  const action = detail['action-type'];
  const reference = tag ? `${repository}:${tag}` : digest ? `${repository}@${digest}` : repository;

  const verb = ECR_EVENT_PATTERN.detail['action-type'].includes(action) ? VERBS[action] : undefined;
  if (!verb) return ignore(`ECR ${action} of ${reference} is not a push or a delete`);
  if (!ECR_EVENT_PATTERN.detail.result.includes(detail.result)) return ignore(`failed ${verb} of ${reference} (result ${detail.result})`);
  if (!tag) return ignore(verb === 'push' ? `push of ${reference} has no tag` : `delete of ${reference} names no tag`);

  const problem =
    repositoryProblem(repository) ??
    tagProblem(tag) ??
    (verb === 'push' ? (digest === undefined ? 'no digest' : digestProblem(digest)) : undefined);
  if (problem) return ignore(`${verb} of ${reference}: ${problem}`);
  const occurredAt = toUtcIso(envelope.time);
  if (!occurredAt) return ignore(`${verb} of ${reference}: invalid time "${envelope.time}"`);

  const registry = ecrHost(envelope.account, envelope.region);
  if (verb === 'delete') {
    const deleted: ImageDeleteEvent = {
      kind: 'image-delete',
      source: 'ecr',
      registry,
      repository,
      tag,
      // A delete is worth recording without its digest; an unusable one is left out.
      ...(digest && !digestProblem(digest) && { digest }),
      occurredAt,
      deliveryId: envelope.id,
    };
    return { events: [deleted], ignored: [] };
  }
  const pushed: ImageEvent = {
    kind: 'image',
    source: 'ecr',
    registry,
    repository,
    tag,
    digest: digest!,
    occurredAt,
    deliveryId: envelope.id,
  };
  return { events: [pushed], ignored: [] };
}

function ignore(reason: string): NormalizeResult {
  return { events: [], ignored: [{ reason }] };
}

export const ecrProvider: WebhookProvider = {
  name: 'ecr',
  kind: 'registry',
  secretIn: 'header',
  setupInstructions: ({ url, secret }) =>
    [
      'In Amazon EventBridge, in the account whose event bus receives the ECR events:',
      '',
      '1. API destinations → Connections → Create connection',
      '     Authorization type:  API Key',
      '     API key name:        Authorization',
      `     Value:               Bearer ${secret}`,
      '',
      '2. API destinations → Create API destination',
      `     API destination endpoint:  ${url}`,
      '     HTTP method:               POST',
      '     Connection:                the connection from step 1',
      '',
      '3. Rules → Create rule (on the bus that receives the ECR events), with this event pattern:',
      `     ${JSON.stringify(ECR_EVENT_PATTERN)}`,
      '   Target: the API destination from step 2, sending the matched event as it is (no input transformer).',
    ].join('\n'),
  // API destinations send `application/json; charset=utf-8`.
  contentTypes: ['application/json'],

  authenticate(req: WebhookRequest, secrets: string[]): void {
    authenticateBearer(req, secrets);
  },

  normalize(req: WebhookRequest): NormalizeResult {
    return normalizeEcrEvent(parseJson(req.rawBody, 'ecr event'));
  },
};
