import { parseQueueMessage } from '../../../lib/aws/queue-message';
import { ValidationError } from '../../../lib/domain/errors';

describe('parseQueueMessage', () => {
  it.each([
    { type: 'start-run', runId: 'da1' },
    { type: 'event', event: { kind: 'image', source: 'ecr', registry: 'r', repository: 'a', tag: '1', digest: 'sha256:x', occurredAt: 't', deliveryId: 'd' } },
    { type: 'build-result', result: { runId: 'da1', status: 'Succeeded', finishedAt: 't', outputImages: [], baseImages: [] } },
  ])('gives back the $type message SqsQueue sent', (message) => {
    expect(parseQueueMessage(JSON.stringify(message))).toEqual(message);
  });

  it.each([
    ['{not json', /not JSON/],
    ['[]', /not a cascade queue message/],
    ['{"type":"reboot"}', /not a cascade queue message/],
    ['{"type":"start-run"}', /runId/],
    ['{"type":"event","event":{"kind":"image"}}', /event\.deliveryId/],
    ['{"type":"build-result","result":{}}', /result\.runId/],
  ])('refuses %s', (body, message) => {
    expect(() => parseQueueMessage(body)).toThrow(ValidationError);
    expect(() => parseQueueMessage(body)).toThrow(message);
  });
});
