// Bad command lines end with exit code 2, one line on stderr that says what to do, and no request.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startApiDouble, type ApiDouble } from './api-double';

let api: ApiDouble;
let cwd: string;

beforeAll(async () => {
  api = await startApiDouble();
  cwd = await mkdtemp(join(tmpdir(), 'cascade-cli-usage-'));
});

afterAll(async () => {
  await api.close();
  await rm(cwd, { recursive: true, force: true });
});

beforeEach(() => api.reset((request) => ({ status: 200, json: { unexpected: `${request.method} ${request.path}` } })));

const createTask = ['task', 'create', '--name', 'app', '--registry', 'r.example.com', '--image', 'app:1', '--context', 'https://git.example.com/app.git'];

type UsageCase = [label: string, argv: string[], message: RegExp, stdin?: string];

describe('bad input sends nothing and exits 2', () => {
  const cases: UsageCase[] = [
    ['unknown command', ['tsk'], /^error: unknown command 'tsk' \(did you mean task\?\); run "cascade --help" to see its commands\n$/],
    ['unknown subcommand', ['task', 'frobnicate'], /unknown command 'frobnicate'; run "cascade task --help"/],
    ['unknown flag', ['task', 'list', '--colour'], /unknown option '--colour'; run "cascade task list --help" to see its options/],
    ['unknown flag on a group', ['task', '--colour', 'list'], /unknown option '--colour'/],
    ['missing --name', ['task', 'show'], /required option '--name <name>' not specified; run "cascade task show --help"/],
    ['missing create flags', ['task', 'create', '--name', 'app'], /required option '--registry <host>' not specified/],
    ['a flag without its value', ['task', 'show', '--name'], /option '--name <name>' argument missing/],
    ['too many arguments', ['task', 'list', 'extra'], /too many arguments for 'list'/],
    ['--arg without =', [...createTask, '--arg', 'REGISTRY_NAME'], /--arg takes KEY=VALUE, such as --arg REGISTRY_NAME=/],
    ['--arg with no name', [...createTask, '--arg', '=value'], /--arg takes KEY=VALUE/],
    ['--top zero', ['task', 'list-runs', '--top', '0'], /--top takes a positive whole number, such as --top 15/],
    ['--top negative', ['task', 'list-runs', '--top', '-3'], /--top/],
    ['--top a word', ['task', 'list-runs', '--top', 'ten'], /--top takes a positive whole number/],
    ['--top a fraction', ['task', 'list-runs', '--top', '1.5'], /--top takes a positive whole number/],
    ['--run-status unknown', ['task', 'list-runs', '--run-status', 'Done'], /--run-status takes one of Queued, Running, Succeeded/],
    ['boolean flag yes', [...createTask, '--base-image-trigger-enabled', 'yes'], /--base-image-trigger-enabled takes true or false/],
    ['boolean flag 1', ['task', 'update', '--name', 'app', '--commit-trigger-enabled', '1'], /--commit-trigger-enabled takes true or false/],
    ['trigger type unknown', [...createTask, '--base-image-trigger-type', 'Build'], /--base-image-trigger-type takes one of Runtime, All/],
    ['status unknown', [...createTask, '--status', 'Paused'], /--status takes one of Enabled, Disabled/],
    ['--output unknown', ['task', 'list', '--output', 'yaml'], /--output takes one of table, json/],
    ['update with nothing to change', ['task', 'update', '--name', 'app'], /nothing to update: add at least one setting/],
    ['logs with neither run nor task', ['task', 'logs'], /give either --run-id ID or --name TASK/],
    ['logs with both run and task', ['task', 'logs', '--run-id', 'da1', '--name', 'app'], /give either --run-id ID or --name TASK/],
    ['build without a context', ['build', '--registry', 'r.example.com', '--image', 'a:1'], /missing required argument 'CONTEXT'/],
    ['a context that is neither folder nor URL', ['build', '--registry', 'r.example.com', '--image', 'a:1', 'no-such-folder'], /the context "no-such-folder" is neither a folder nor a git URL/],
    ['login without --password-stdin', ['registry', 'login', 'r.example.com', '--username', 'u'], /add --password-stdin and pipe the password in/],
    ['login with an empty stdin', ['registry', 'login', 'r.example.com', '--username', 'u', '--password-stdin'], /no password arrived on stdin: pipe it in/, ''],
    ['login with only a newline on stdin', ['registry', 'login', 'r.example.com', '--username', 'u', '--password-stdin'], /no password arrived on stdin/, '\n'],
    ['credential with both ways in', ['task', 'credential', 'add', '--name', 'app', '--login-server', 'b.example.com', '--username', 'u', '--password-stdin', '--use-identity', 'arn:aws:iam::123456789012:role/pull'], /not both/, 'pw'],
    ['credential with no way in', ['task', 'credential', 'add', '--name', 'app', '--login-server', 'b.example.com'], /say how the task logs in: --username USER --password-stdin, or --use-identity ROLE_ARN/],
    ['credential username without stdin', ['task', 'credential', 'add', '--name', 'app', '--login-server', 'b.example.com', '--username', 'u'], /add --password-stdin/],
    ['credential stdin without username', ['task', 'credential', 'add', '--name', 'app', '--login-server', 'b.example.com', '--password-stdin'], /add --username USER/, 'pw'],
    ['webhook without provider', ['webhook', 'create', '--name', 'w'], /required option '--provider <provider>' not specified/],
    ['up on a port out of range', ['up', '--port', '70000'], /--port takes a port number from 0 to 65535/],
    ['up polling more often than every 10 s', ['up', '--poll-interval', '5'], /--poll-interval must be 0 \(off\) or a number of seconds from 10 to 86400, e\.g\. --poll-interval 300; got "5"/],
    ['up with a poll interval that is not a number', ['up', '--poll-interval', '5m'], /--poll-interval must be 0 \(off\) .*got "5m"/],
  ];
  // Objects, not tuples: jest hands a `done` callback to tuple rows shorter than the test's arity.
  it.each(cases.map(([label, argv, message, stdin]) => ({ label, argv, message, stdin })))('$label', async ({ argv, message, stdin }) => {
    const result = await runCli(argv, { api: api.url, cwd, stdin });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stdout).toBe('');
    expect(api.requests).toEqual([]);
  });

  it.each([
    [['registry', 'login', 'r.example.com', '--username', 'u', '--password', 'hunter2-secret']],
    [['registry', 'login', 'r.example.com', '--username', 'u', '--password=hunter2-secret']],
    [['task', 'credential', 'add', '--name', 'app', '--login-server', 'b.example.com', '--username', 'u', '--password', 'hunter2-secret']],
  ])('refuses a password on the command line without repeating it: %j', async (argv) => {
    const result = await runCli(argv, { api: api.url, cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: cascade does not take a password on the command line.*--password-stdin/);
    expect(result.stdout + result.stderr).not.toContain('hunter2-secret');
    expect(api.requests).toEqual([]);
  });

  it('refuses a CASCADE_API that is not an http URL', async () => {
    const result = await runCli(['task', 'list'], { api: 'ftp://example.com', cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: CASCADE_API must be an http(s) URL such as http://127.0.0.1:3000; fix or unset it\n');
  });

  it('prints help on stdout and exits 0 for --help, sending nothing', async () => {
    const result = await runCli(['task', 'list-runs', '--help'], { api: api.url, cwd });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--run-status <status>');
    expect(result.stderr).toBe('');
    expect(api.requests).toEqual([]);
  });

  it('prints the group help on stderr and exits 2 when a group is given no command', async () => {
    const result = await runCli(['task'], { api: api.url, cwd });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: cascade task');
    expect(result.stdout).toBe('');
  });
});
