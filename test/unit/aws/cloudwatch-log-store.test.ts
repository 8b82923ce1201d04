import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { buildStream, CloudWatchLogStore } from '../../../lib/adapters/cloudwatch-log-store';
import { RetryableError, ValidationError } from '../../../lib/domain/errors';

const GROUP = '/aws/codebuild/cascade-dev';
const BUILD_ID = 'cascade-dev:8745a7a9-c340-456a-9166-edf953571b2e';
const NOW = new Date('2026-11-28T05:00:00.000Z');
const notFound = () => new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: {} });

describe('CloudWatchLogStore', () => {
  const logs = mockClient(CloudWatchLogsClient);
  const client = new CloudWatchLogsClient({ region: 'eu-west-1' });
  const buildIds = new Map<string, string>([['da2', BUILD_ID]]);
  const store = new CloudWatchLogStore({ logGroupName: GROUP, client, clock: { now: () => NOW }, buildIdOf: async (runId) => buildIds.get(runId) });
  afterEach(() => logs.reset());
  afterAll(() => logs.restore());

  describe('append', () => {
    it("writes cascade's note to the run's own stream in the build log group", async () => {
      logs.on(PutLogEventsCommand).resolves({});
      await store.append('da2', 'cascade: the build could not be started: no such project\n');
      expect(logs.commandCalls(PutLogEventsCommand).map((c) => c.args[0].input)).toEqual([
        {
          logGroupName: GROUP,
          logStreamName: 'cascade/da2',
          logEvents: [{ timestamp: NOW.getTime(), message: 'cascade: the build could not be started: no such project\n' }],
        },
      ]);
      expect(logs.commandCalls(CreateLogStreamCommand)).toHaveLength(0);
    });

    it('creates the stream on the first note, then writes', async () => {
      logs.on(PutLogEventsCommand).rejectsOnce(notFound()).resolves({});
      logs.on(CreateLogStreamCommand).resolves({});
      await store.append('da3', 'first\n');
      expect(logs.commandCalls(CreateLogStreamCommand).map((c) => c.args[0].input)).toEqual([{ logGroupName: GROUP, logStreamName: 'cascade/da3' }]);
      expect(logs.commandCalls(PutLogEventsCommand)).toHaveLength(2);
    });

    it('accepts a stream another writer created in between', async () => {
      logs.on(PutLogEventsCommand).rejectsOnce(notFound()).resolves({});
      logs.on(CreateLogStreamCommand).rejects(new ResourceAlreadyExistsException({ message: 'exists', $metadata: {} }));
      await expect(store.append('da3', 'x\n')).resolves.toBeUndefined();
      expect(logs.commandCalls(PutLogEventsCommand)).toHaveLength(2);
    });

    it('writes nothing for empty text', async () => {
      await store.append('da2', '');
      expect(logs.calls()).toHaveLength(0);
    });

    it('splits text larger than one event allows, without splitting a character', async () => {
      logs.on(PutLogEventsCommand).resolves({});
      const text = 'a'.repeat(59_999) + '😀' + 'b'.repeat(10);
      await store.append('da2', text);
      const events = logs.commandCalls(PutLogEventsCommand)[0]?.args[0].input.logEvents ?? [];
      expect(events.map((e) => e.message?.length)).toEqual([59_999, 12]);
      expect(events.map((e) => e.message).join('')).toBe(text);
    });

    it('turns throttling into RetryableError', async () => {
      logs.on(PutLogEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
      await expect(store.append('da2', 'x')).rejects.toBeInstanceOf(RetryableError);
    });

    it.each(['../da1', 'da1/x', 'da:1', ''])('refuses the run id %j', async (runId) => {
      await expect(store.append(runId, 'x')).rejects.toBeInstanceOf(ValidationError);
      await expect(store.read(runId)).rejects.toBeInstanceOf(ValidationError);
      expect(logs.calls()).toHaveLength(0);
    });
  });

  describe('read', () => {
    it("merges cascade's notes and the build's stream by time, every event one line", async () => {
      logs.on(GetLogEventsCommand, { logStreamName: 'cascade/da2' }).resolves({
        events: [{ timestamp: 1000, message: 'cascade: started build\n' }],
        nextForwardToken: 'f/notes-1',
      });
      logs
        .on(GetLogEventsCommand, { logStreamName: '8745a7a9-c340-456a-9166-edf953571b2e', nextToken: undefined })
        .resolves({
          events: [
            { timestamp: 1000, message: '[Container] 2026/11/28 05:00:22 Running command docker build\n' },
            { timestamp: 1500, message: 'Step 1/3 : FROM node:9-alpine' },
          ],
          nextForwardToken: 'f/build-1',
        })
        .on(GetLogEventsCommand, { logStreamName: '8745a7a9-c340-456a-9166-edf953571b2e', nextToken: 'f/build-1' })
        .resolves({ events: [], nextForwardToken: 'f/build-2' })
        .on(GetLogEventsCommand, { logStreamName: '8745a7a9-c340-456a-9166-edf953571b2e', nextToken: 'f/build-2' })
        .resolves({ events: [{ timestamp: 900, message: 'late but earlier' }], nextForwardToken: 'f/build-3' })
        .on(GetLogEventsCommand, { logStreamName: '8745a7a9-c340-456a-9166-edf953571b2e', nextToken: 'f/build-3' })
        .resolves({ events: [], nextForwardToken: 'f/build-3' });
      logs.on(GetLogEventsCommand, { logStreamName: 'cascade/da2', nextToken: 'f/notes-1' }).resolves({ events: [], nextForwardToken: 'f/notes-1' });

      await expect(store.read('da2')).resolves.toBe(
        'late but earlier\ncascade: started build\n[Container] 2026/11/28 05:00:22 Running command docker build\nStep 1/3 : FROM node:9-alpine\n',
      );
      const inputs = logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input);
      expect(inputs.every((i) => i.logGroupName === GROUP && i.startFromHead === true)).toBe(true);
      // An empty page is not the end: only a repeated token is.
      expect(inputs.filter((i) => i.logStreamName !== 'cascade/da2').map((i) => i.nextToken)).toEqual([undefined, 'f/build-1', 'f/build-2', 'f/build-3']);
    });

    it('is empty for a run with no build and no notes yet', async () => {
      logs.on(GetLogEventsCommand).rejects(notFound());
      await expect(store.read('da9')).resolves.toBe('');
      expect(logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input.logStreamName)).toEqual(['cascade/da9']);
    });

    it('is just the notes while the build has not logged yet', async () => {
      logs.on(GetLogEventsCommand, { logStreamName: 'cascade/da2' }).resolves({ events: [{ timestamp: 1, message: 'note\n' }], nextForwardToken: 't' });
      logs.on(GetLogEventsCommand, { logStreamName: 'cascade/da2', nextToken: 't' }).resolves({ events: [], nextForwardToken: 't' });
      logs.on(GetLogEventsCommand, { logStreamName: '8745a7a9-c340-456a-9166-edf953571b2e' }).rejects(notFound());
      await expect(store.read('da2')).resolves.toBe('note\n');
    });

    it('turns throttling into RetryableError', async () => {
      logs.on(GetLogEventsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} }));
      await expect(store.read('da2')).rejects.toBeInstanceOf(RetryableError);
    });
  });

  it.each([
    [BUILD_ID, '8745a7a9-c340-456a-9166-edf953571b2e'],
    [`arn:aws:codebuild:eu-west-1:123456789012:build/${BUILD_ID}`, '8745a7a9-c340-456a-9166-edf953571b2e'],
  ])('the build stream of %s is %s', (buildId, stream) => {
    expect(buildStream(buildId)).toBe(stream);
  });
});
