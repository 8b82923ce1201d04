// The ECR events cascade acts on are written once, in lib/events/ecr-event-pattern.json: the
// normalizer filters by it, serverless.yml's registryEvents rule reads it, and the base account's
// forwarding rule carries a copy. These fail when any of the three drifts from it. (The packaged
// rule itself is checked in test/integration/stack-template.test.ts.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ECR_EVENT_PATTERN, normalizeEcrEvent } from '../../../lib/events/ecr';
import { matchesEventPattern } from '../../support/event-pattern';
import { fixtureJson } from './fixtures';

const ROOT = join(__dirname, '..', '..', '..');
const PATTERN_FILE = 'lib/events/ecr-event-pattern.json';
const DIGEST = `sha256:${'7'.repeat(64)}`;

type Event = Record<string, unknown> & { detail: Record<string, unknown> };

/** A documented ECR event with a full digest, and `detail` changed. */
function ecrEvent(file: string, detail: Record<string, unknown> = {}): Event {
  const event = fixtureJson('ecr', file) as unknown as Event;
  return { ...event, detail: { ...event.detail, 'image-digest': DIGEST, ...detail } };
}

describe('the ECR event pattern', () => {
  it('is the JSON file serverless.yml gives the registryEvents rule', () => {
    const sls = parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
      functions: Record<string, { events: Array<{ eventBridge?: { pattern: unknown } }> }>;
    };
    const patterns = sls.functions.registryEvents?.events.map((e) => e.eventBridge?.pattern);
    expect(patterns).toEqual([`\${file(${PATTERN_FILE})}`]);
    expect(ECR_EVENT_PATTERN).toEqual(JSON.parse(readFileSync(join(ROOT, PATTERN_FILE), 'utf8')));
  });

  it("is the base account's forwarding rule, exactly", () => {
    const template = parse(readFileSync(join(ROOT, 'infra', 'base-registry-pull-role.yml'), 'utf8')) as {
      Resources: Record<string, { Properties: { EventPattern?: unknown } }>;
    };
    expect(template.Resources.ForwardEcrPushes?.Properties.EventPattern).toEqual(ECR_EVENT_PATTERN);
  });

  // What EventBridge lets through is what the normalizer turns into an event, and the reverse.
  it.each<[string, Event, string | undefined]>([
    ['a successful push', ecrEvent('awsdocs-ecr-image-action-push-success.json'), 'image'],
    ['a successful tag deletion', ecrEvent('awsdocs-ecr-image-action-delete.json'), 'image-delete'],
    ['a failed push', ecrEvent('awsdocs-ecr-image-action-push-success.json', { result: 'FAILURE' }), undefined],
    ['a failed deletion', ecrEvent('awsdocs-ecr-image-action-delete.json', { result: 'FAILURE' }), undefined],
    ['a replication', ecrEvent('awsdocs-ecr-image-action-push-success.json', { 'action-type': 'REPLICATE' }), undefined],
    ['another ECR event type', { ...ecrEvent('awsdocs-ecr-image-action-push-success.json'), 'detail-type': 'ECR Image Scan' }, undefined],
    ['another source', { ...ecrEvent('awsdocs-ecr-image-action-push-success.json'), source: 'aws.codebuild' }, undefined],
  ])('%s: matched by the rule and normalized alike', (_name, event, kind) => {
    expect(matchesEventPattern(ECR_EVENT_PATTERN, event)).toBe(kind !== undefined);
    const { events } = normalizeEcrEvent(event);
    expect(events.map((e) => e.kind)).toEqual(kind ? [kind] : []);
  });
});
