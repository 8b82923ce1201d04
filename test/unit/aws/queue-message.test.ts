import { parseQueueMessage, queueBodyLogKeys } from '../../../lib/aws/queue-message';
import { ValidationError } from '../../../lib/domain/errors';

describe('parseQueueMessage', () => {
  it.each([
    { type: 'start-run', runId: 'da1' },
    { type: 'event', event: { kind: 'image', source: 'ecr', registry: 'r', repository: 'a', tag: '1', digest: 'sha256:x', occurredAt: 't', deliveryId: 'd' } },
    // Docker Hub and Quay name no digest; the dispatcher asks the registry.
    { type: 'event', event: { kind: 'image-tag', source: 'dockerhub', registry: 'docker.io', repository: 'library/node', tag: '20', occurredAt: 't', deliveryId: 'd' } },
    { type: 'event', event: { kind: 'image-delete', source: 'harbor', registry: 'h', repository: 'a', tag: '1', occurredAt: 't', deliveryId: 'd' } },
    { type: 'event', event: { kind: 'image-delete', source: 'ecr', registry: 'r', repository: 'a', tag: '1', digest: 'sha256:x', occurredAt: 't', deliveryId: 'd' } },
    { type: 'event', event: { kind: 'git', source: 'gitlab', repoUrl: 'https://gitlab.com/a/b.git', ref: 'refs/heads/main', commit: 'c', deliveryId: 'd' } },
    { type: 'build-result', result: { runId: 'da1', status: 'Succeeded', finishedAt: 't', outputImages: [], baseImages: [] } },
  ])('gives back the $type message SqsQueue sent', (message) => {
    expect(parseQueueMessage(JSON.stringify(message))).toEqual(message);
  });

  it.each([
    ['{not json', /not JSON/],
    ['[]', /not a cascade queue message/],
    ['{"type":"reboot"}', /not a cascade queue message/],
    ['{"type":"start-run"}', /runId/],
    ['{"type":"event","event":{"kind":"image"}}', /event\.source/],
    ['{"type":"event","event":{"kind":"push"}}', /event\.kind/],
    ['{"type":"event","event":{"kind":"git","source":"github","repoUrl":"u","ref":"r","deliveryId":"d"}}', /event\.commit/],
    ['{"type":"build-result","result":{}}', /result\.runId/],
  ])('refuses %s', (body, message) => {
    expect(() => parseQueueMessage(body)).toThrow(ValidationError);
    expect(() => parseQueueMessage(body)).toThrow(message);
  });
});

describe('queueBodyLogKeys', () => {
  it.each<[string, string, Record<string, string>]>([
    ['an event: its delivery id', '{"type":"event","event":{"kind":"git","source":"github","repoUrl":"u","ref":"r","commit":"c","deliveryId":"gh-1"}}', { messageType: 'event', deliveryId: 'gh-1' }],
    ['a deferred event: the task it is for', '{"type":"event","forTask":"app","event":{"kind":"image-tag","source":"quay","registry":"q","repository":"a","tag":"1","occurredAt":"t","deliveryId":"q-1"}}', { messageType: 'event', deliveryId: 'q-1', task: 'app' }],
    ['a start: its run id', '{"type":"start-run","runId":"da7"}', { messageType: 'start-run', runId: 'da7' }],
    ['a build result: its run id', '{"type":"build-result","result":{"runId":"da8","status":"Failed"}}', { messageType: 'build-result', runId: 'da8' }],
    ['a body that is no message: nothing', '{"type":"start-run"', {}],
  ])('names what a message is about, for its log lines: %s', (_what, body, keys) => {
    expect(queueBodyLogKeys(body)).toEqual(keys);
  });
});
