// `cascade notification …` against a double of the API: what each command sends, prints and
// exits with, and the command lines refused before anything is sent.
import type { DeliveryView } from '../../../lib/domain/notifications/notification';
import { runCli, startApiDouble, type ApiDouble } from './api-double';

let api: ApiDouble;
beforeAll(async () => {
  api = await startApiDouble();
});
afterAll(() => api.close());

const cli = (argv: string[]) => runCli(argv, { api: api.url });

const added = {
  name: 'ops',
  url: 'https://hooks.example.com/cascade',
  events: ['run.succeeded', 'run.failed'],
  format: 'json',
  createdAt: '2026-12-01T23:00:00.000Z',
  secret: 'nsec-0123456789abcdef0123456789abcdef01234',
};
const { secret: _secret, ...listed } = added;

const delivery = (overrides: Partial<DeliveryView> = {}): DeliveryView => ({
  id: '20261201T231010123Z-3f9a0c1d2e4b5a69',
  notification: 'ops',
  event: 'run.succeeded',
  runId: 'da4',
  task: 'app',
  status: 'delivered',
  createdAt: '2026-12-01T23:10:10.123Z',
  attempts: [{ number: 1, at: '2026-12-01T23:10:10.200Z', durationMs: 14, httpStatus: 204 }],
  detail: 'delivered on attempt 1',
  ...overrides,
});

describe('notification add', () => {
  it('sends the name, URL, events, format and task, and prints the secret once with how to check it', async () => {
    api.reset(() => ({ status: 201, json: { ...added, events: ['run.started', 'base.deleted'], task: 'app' } }));
    const result = await cli(['notification', 'add', '--name', 'ops', '--url', 'https://hooks.example.com/cascade', '--events', 'run.started, base.deleted', '--task', 'app']);
    expect(result.code).toBe(0);
    expect(api.requests).toEqual([
      { method: 'POST', path: '/api/notifications', query: {}, body: { name: 'ops', url: 'https://hooks.example.com/cascade', format: 'json', events: ['run.started', 'base.deleted'], task: 'app' } },
    ]);
    expect(result.stdout).toBe(
      [
        'Name:     ops',
        'URL:      https://hooks.example.com/cascade',
        'Events:   run.started, base.deleted',
        'Format:   json',
        'Task:     app',
        `Secret:   ${added.secret}`,
        'Created:  2026-12-01T23:00:00Z',
        '',
        'Each delivery carries x-cascade-signature-256: sha256=<hex HMAC-SHA256 of the raw body with this secret>.',
        'Keep the secret now: cascade will not show it again.',
        '',
      ].join('\n'),
    );
  });

  it('leaves the events to the server by default, and prints no secret for Slack, which checks none', async () => {
    api.reset(() => ({ status: 201, json: { ...added, format: 'slack', url: 'https://hooks.slack.com/services/***' } }));
    const result = await cli(['notification', 'add', '--name', 'chat', '--url', 'https://hooks.slack.com/services/T0/B0/XX', '--format', 'Slack']);
    expect(api.requests[0]?.body).toEqual({ name: 'chat', url: 'https://hooks.slack.com/services/T0/B0/XX', format: 'slack' });
    expect(result.stdout).not.toContain(added.secret);
    expect(result.stdout).toContain('Slack deliveries are not signed');
  });

  it('prints the server object with --output json, secret included', async () => {
    api.reset(() => ({ status: 201, json: added }));
    const result = await cli(['notification', 'add', '--name', 'ops', '--url', 'https://hooks.example.com/cascade', '--output', 'json']);
    expect(JSON.parse(result.stdout)).toEqual(added);
  });

  it.each([
    ['an unknown event, named', ['--events', 'run.succeeded,run.finished'], 'error: --events: unknown event "run.finished"; the events are run.started, run.succeeded, run.failed, base.deleted, such as --events run.succeeded,run.failed\n'],
    ['no event', ['--events', ' , '], 'error: --events: name at least one of run.started, run.succeeded, run.failed, base.deleted, such as --events run.succeeded,run.failed\n'],
    ['a format it does not know', ['--format', 'xml'], 'error: --format takes one of json, slack, such as --format json\n'],
  ])('refuses %s, sending nothing (exit 2)', async (_what, extra, stderr) => {
    api.reset();
    const result = await cli(['notification', 'add', '--name', 'ops', '--url', 'https://hooks.example.com/cascade', ...extra]);
    expect(result).toEqual({ code: 2, stdout: '', stderr });
    expect(api.requests).toEqual([]);
  });

  it.each([
    ['ftp://files.example.com/x', 'error: --url: cascade posts to http or https URLs, not "ftp:", such as --url https://hooks.example.com/cascade\n'],
    ['https://me:hunter22@hooks.example.com/x', 'error: --url: must not carry a user or password (user:password@); check X-Cascade-Signature-256 on the receiver instead, such as --url https://hooks.example.com/cascade\n'],
    ['hooks.example.com', 'error: --url: "hooks.example.com" is not a URL; give one such as https://hooks.example.com/cascade, such as --url https://hooks.example.com/cascade\n'],
  ])('refuses the URL %s, sending nothing (exit 2)', async (url, stderr) => {
    api.reset();
    const result = await cli(['notification', 'add', '--name', 'ops', '--url', url]);
    expect(result).toEqual({ code: 2, stdout: '', stderr });
    expect(api.requests).toEqual([]);
  });

  it("says the server's refusal and exits 1", async () => {
    api.reset(() => ({ status: 404, json: { error: { code: 'not_found', message: 'task "nobody" was not found' } } }));
    const result = await cli(['notification', 'add', '--name', 'ops', '--url', 'https://hooks.example.com/cascade', '--task', 'nobody']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'error: task "nobody" was not found\n' });
  });
});

describe('notification list and remove', () => {
  it('lists in a table, and says how to add one when there is none', async () => {
    api.reset(() => ({ status: 200, json: { notifications: [listed, { ...listed, name: 'chat', format: 'slack', url: 'https://hooks.slack.com/services/***', task: 'app' }] } }));
    const result = await cli(['notification', 'list']);
    expect(result.stdout).toBe(
      [
        'NAME  FORMAT  EVENTS                    TASK  URL',
        '----  ------  ------------------------  ----  ------------------------------------',
        'ops   json    run.succeeded,run.failed        https://hooks.example.com/cascade',
        'chat  slack   run.succeeded,run.failed  app   https://hooks.slack.com/services/***',
        '',
      ].join('\n'),
    );
    api.reset(() => ({ status: 200, json: { notifications: [] } }));
    expect((await cli(['notification', 'list'])).stdout).toBe('No notifications: add one with cascade notification add --name NAME --url URL\n');
  });

  it('removes by name', async () => {
    api.reset(() => ({ status: 204 }));
    const result = await cli(['notification', 'remove', '--name', 'ops']);
    expect(result).toEqual({ code: 0, stdout: 'Removed notification "ops".\n', stderr: '' });
    expect(api.requests).toEqual([{ method: 'DELETE', path: '/api/notifications/ops', query: {}, body: undefined }]);
  });
});

describe('notification test', () => {
  it('prints a delivered test and exits 0', async () => {
    api.reset(() => ({ status: 200, json: delivery({ event: 'test', runId: undefined, task: undefined }) }));
    const result = await cli(['notification', 'test', '--name', 'ops']);
    expect(api.requests).toEqual([{ method: 'POST', path: '/api/notifications/ops/test', query: {}, body: undefined }]);
    expect(result).toEqual({ code: 0, stdout: 'Test delivery 20261201T231010123Z-3f9a0c1d2e4b5a69 delivered: HTTP 204 after 14 ms.\n', stderr: '' });
  });

  it('says why a test was not delivered and exits 1', async () => {
    api.reset(() => ({
      status: 200,
      json: delivery({ event: 'test', status: 'failed', attempts: [{ number: 1, at: '2026-12-01T23:10:10.200Z', durationMs: 10_001, error: 'no answer within 10 s' }], detail: 'no answer within 10 s; a test is tried once' }),
    }));
    const result = await cli(['notification', 'test', '--name', 'ops']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'Test delivery 20261201T231010123Z-3f9a0c1d2e4b5a69 failed: no answer within 10 s; a test is tried once.\n' });
  });
});

describe('notification deliveries', () => {
  it('lists each delivery with its attempts: time, and HTTP status or error', async () => {
    api.reset(() => ({
      status: 200,
      json: {
        deliveries: [
          delivery({
            id: 'd-2',
            runId: 'da5',
            status: 'pending',
            attempts: [{ number: 1, at: '2026-12-01T23:11:00.000Z', durationMs: 10_000, error: 'no answer within 10 s' }],
            nextAttemptAt: '2026-12-01T23:11:11.000Z',
            detail: 'no answer within 10 s; tried again',
          }),
          delivery({
            id: 'd-1',
            attempts: [
              { number: 1, at: '2026-12-01T23:10:10.000Z', durationMs: 3, httpStatus: 500 },
              { number: 2, at: '2026-12-01T23:10:11.000Z', durationMs: 3, httpStatus: 200 },
            ],
            detail: 'delivered on attempt 2',
          }),
          delivery({ id: 'd-0', event: 'base.deleted', runId: undefined, status: 'pending', attempts: [], detail: undefined }),
        ],
      },
    }));
    const result = await cli(['notification', 'deliveries', '--name', 'ops', '--top', '3']);
    expect(api.requests).toEqual([{ method: 'GET', path: '/api/notifications/ops/deliveries', query: { top: '3' }, body: undefined }]);
    expect(result.stdout).toBe(
      [
        'DELIVERY  EVENT          RUN  STATUS     ATTEMPT  AT                    RESULT                 DETAIL',
        '--------  -------------  ---  ---------  -------  --------------------  ---------------------  ------------------------------------',
        'd-2       run.succeeded  da5  pending    1        2026-12-01T23:11:00Z  no answer within 10 s  next attempt at 2026-12-01T23:11:11Z',
        'd-1       run.succeeded  da4  delivered  1        2026-12-01T23:10:10Z  HTTP 500               delivered on attempt 2',
        '                                         2        2026-12-01T23:10:11Z  HTTP 200',
        'd-0       base.deleted        pending',
        '',
      ].join('\n'),
    );
  });

  it('prints the server objects with --output json, and refuses a --top that is not a positive number', async () => {
    api.reset(() => ({ status: 200, json: { deliveries: [delivery()] } }));
    expect(JSON.parse((await cli(['notification', 'deliveries', '--name', 'ops', '--output', 'json'])).stdout)).toEqual([delivery()]);
    expect(api.requests[0]?.query).toEqual({});
    api.reset();
    expect(await cli(['notification', 'deliveries', '--name', 'ops', '--top', '0'])).toEqual({ code: 2, stdout: '', stderr: 'error: --top takes a positive whole number, such as --top 20\n' });
  });
});
