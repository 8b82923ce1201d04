// The walker the CodeBuild emulator checks requests with: deliberately malformed CodeBuild
// requests must each be refused for the rule they break, at the member they break it, or the
// emulator's empty `refused` list would prove nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBotocoreModel, ServiceModelValidator, validationMessage, type ServiceModel } from '../../support/service-model';

const codebuild = new ServiceModelValidator(loadBotocoreModel('codebuild', '2016-10-06'));
const fixture = (name: string) => JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'aws', name), 'utf8')) as Record<string, unknown>;

/** A StartBuild as CodeBuildBuilder sends it. */
const startBuild = (overrides: Record<string, unknown> = {}) => ({
  projectName: 'cascade-dev',
  idempotencyToken: 'da1',
  sourceTypeOverride: 'GITHUB',
  sourceLocationOverride: 'https://github.com/example/acr-build-helloworld-node.git',
  sourceVersion: 'main',
  gitCloneDepthOverride: 1,
  environmentVariablesOverride: [
    { name: 'CASCADE_RUN_ID', value: 'da1', type: 'PLAINTEXT' },
    { name: 'CASCADE_REGISTRY_PASSWORD_0', value: '/cascade/dev/task/helloworld/docker.io', type: 'PARAMETER_STORE' },
  ],
  ...overrides,
});
const variable = (v: Record<string, unknown>) => startBuild({ environmentVariablesOverride: [v] });
const ids = (n: number) => Array.from({ length: n }, (_, i) => `cascade-dev:${i}`);
const createProject = (name: string, tags?: unknown) => ({
  name,
  source: { type: 'NO_SOURCE', buildspec: 'version: 0.2' },
  artifacts: { type: 'NO_ARTIFACTS' },
  environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/amazonlinux-x86_64-standard:6.0', computeType: 'BUILD_GENERAL1_SMALL' },
  serviceRole: 'arn:aws:iam::123456789012:role/cascade-build',
  ...(tags !== undefined && { tags }),
});

describe('ServiceModelValidator on CodeBuild', () => {
  it.each<[string, string, unknown]>([
    ['StartBuild as cascade sends it', 'StartBuild', startBuild()],
    ['an idempotency token of 10 000 characters (the model sets no limit on it)', 'StartBuild', startBuild({ idempotencyToken: 'x'.repeat(10_000) })],
    ['a variable with no type (PLAINTEXT is the default)', 'StartBuild', variable({ name: 'A', value: 'b' })],
    ['an empty variable value (value is a plain String)', 'StartBuild', variable({ name: 'A', value: '' })],
    ['BatchGetBuilds of 100 builds', 'BatchGetBuilds', { ids: ids(100) }],
    ['ListBuildsForProject turning a page', 'ListBuildsForProject', { projectName: 'cascade-dev', nextToken: 'opaque' }],
    ['StopBuild', 'StopBuild', { id: 'cascade-dev:8745a7a9-c340-456a-9166-edf953571b2e' }],
    // Smithy patterns are not anchored: `!` before a valid name still holds one.
    ['a project name the pattern finds inside a longer value', 'CreateProject', createProject('!ab')],
    ['tags whose key and value use letters of any script', 'CreateProject', createProject('cascade-dev', [{ key: 'équipe', value: 'ビルド' }])],
  ])('accepts %s', (_what, operation, input) => {
    expect(codebuild.validateInput(operation, input)).toEqual([]);
  });

  it.each<[string, string, unknown, string, string]>([
    ['a missing projectName', 'StartBuild', { idempotencyToken: 'da1' }, 'projectName', 'required'],
    ['an empty projectName', 'StartBuild', startBuild({ projectName: '' }), 'projectName', 'length'],
    ['a variable type not in the enum', 'StartBuild', variable({ name: 'A', value: 'b', type: 'SECRET' }), 'environmentVariablesOverride.1.member.type', 'enum'],
    ['a variable without a value', 'StartBuild', variable({ name: 'A', type: 'PLAINTEXT' }), 'environmentVariablesOverride.1.member.value', 'required'],
    ['a variable with an empty name', 'StartBuild', variable({ name: '', value: 'b' }), 'environmentVariablesOverride.1.member.name', 'length'],
    ['a variable whose value is a number', 'StartBuild', variable({ name: 'A', value: 1 }), 'environmentVariablesOverride.1.member.value', 'type'],
    ['variables given as an object', 'StartBuild', startBuild({ environmentVariablesOverride: { A: 'b' } }), 'environmentVariablesOverride', 'type'],
    ['a misspelt member', 'StartBuild', startBuild({ idempotencyTokn: 'da1' }), 'idempotencyTokn', 'unknown'],
    ['a source type CodeBuild does not have', 'StartBuild', startBuild({ sourceTypeOverride: 'GITEA' }), 'sourceTypeOverride', 'enum'],
    ['a negative clone depth', 'StartBuild', startBuild({ gitCloneDepthOverride: -1 }), 'gitCloneDepthOverride', 'range'],
    ['a fractional clone depth', 'StartBuild', startBuild({ gitCloneDepthOverride: 1.5 }), 'gitCloneDepthOverride', 'type'],
    ['a timeout under 5 minutes', 'StartBuild', startBuild({ timeoutInMinutesOverride: 4 }), 'timeoutInMinutesOverride', 'range'],
    ['a timeout over 36 hours', 'StartBuild', startBuild({ timeoutInMinutesOverride: 2161 }), 'timeoutInMinutesOverride', 'range'],
    ['privileged mode as a string', 'StartBuild', startBuild({ privilegedModeOverride: 'true' }), 'privilegedModeOverride', 'type'],
    ['BatchGetBuilds of no build', 'BatchGetBuilds', { ids: [] }, 'ids', 'length'],
    ['BatchGetBuilds of 101 builds', 'BatchGetBuilds', { ids: ids(101) }, 'ids', 'length'],
    ['BatchGetBuilds of an empty id', 'BatchGetBuilds', { ids: ['cascade-dev:1', ''] }, 'ids.2.member', 'length'],
    ['a sort order not in the enum', 'ListBuildsForProject', { projectName: 'cascade-dev', sortOrder: 'NEWEST' }, 'sortOrder', 'enum'],
    ['StopBuild of nothing', 'StopBuild', {}, 'id', 'required'],
    ['a project name the pattern cannot find in', 'CreateProject', createProject('--'), 'name', 'pattern'],
    ['a tag key with a character the pattern refuses', 'CreateProject', createProject('cascade-dev', [{ key: 'a*b', value: 'v' }]), 'tags.1.member.key', 'pattern'],
  ])('refuses %s', (_what, operation, input, path, rule) => {
    const violations = codebuild.validateInput(operation, input);
    expect(violations.map((v) => ({ path: v.path, rule: v.rule }))).toEqual([{ path, rule }]);
    expect(validationMessage(violations)).toMatch(new RegExp(`^1 validation error detected: .*'${path.replace(/\./g, '\\.')}'`));
  });

  it('words a refusal as AWS does', () => {
    expect(validationMessage(codebuild.validateInput('StartBuild', variable({ name: 'A', value: 'b', type: 'SECRET' })))).toBe(
      "1 validation error detected: Value 'SECRET' at 'environmentVariablesOverride.1.member.type' failed to satisfy constraint: Member must satisfy enum value set: [PLAINTEXT, PARAMETER_STORE, SECRETS_MANAGER]",
    );
  });

  it('reports every violation of one request', () => {
    const violations = codebuild.validateInput('StartBuild', { sourceTypeOverride: 'GITEA', gitCloneDepthOverride: -1, extra: true });
    expect(violations.map((v) => `${v.rule}@${v.path}`).sort()).toEqual(['enum@sourceTypeOverride', 'range@gitCloneDepthOverride', 'required@projectName', 'unknown@extra']);
  });

  it('compiles every pattern of the CodeBuild model', () => {
    expect(codebuild.uncompilablePatterns).toEqual([]);
  });

  it.each([
    ['StartBuild', 'StartBuildOutput', 'codebuild-start-build.json'],
    ['BatchGetBuilds', 'BatchGetBuildsOutput', 'codebuild-batch-get-builds.json'],
  ])('finds the recorded %s answer (test/fixtures/aws) real-shaped', (_what, shape, file) => {
    expect(codebuild.validateShape(shape, fixture(file))).toEqual([]);
  });

  it('holds an answer to its shape only: services answer with lists emptier than their requests may be', () => {
    const answer = { builds: [], buildsNotFound: [] };
    expect(codebuild.validateShape('BatchGetBuildsOutput', answer).map((v) => `${v.rule}@${v.path}`)).toEqual(['length@buildsNotFound']);
    expect(codebuild.validateShape('BatchGetBuildsOutput', answer, { answer: true })).toEqual([]);
    expect(codebuild.validateShape('BatchGetBuildsOutput', { builds: [{ buildStatus: 'DONE' }] }, { answer: true }).map((v) => `${v.rule}@${v.path}`)).toEqual(['enum@builds.1.member.buildStatus']);
  });

  it("refuses an answer with moto's ISO-string timestamps, which the JS SDK cannot read", () => {
    const answer = fixture('codebuild-start-build.json') as { build: Record<string, unknown> };
    answer.build.startTime = '2026-11-28T05:00:01.482000+00:00';
    expect(codebuild.validateShape('StartBuildOutput', answer).map((v) => `${v.rule}@${v.path}`)).toEqual(['type@build.startTime']);
  });
});

describe('ServiceModelValidator on any model', () => {
  const model = (pattern: string): ServiceModel => ({
    metadata: { protocol: 'json' },
    operations: { Put: { input: { shape: 'PutInput' } } },
    shapes: {
      PutInput: { type: 'structure', required: ['Name'], members: { Name: { shape: 'Name' }, Tags: { shape: 'Tags' }, Choice: { shape: 'Choice' }, At: { shape: 'At' } } },
      Name: { type: 'string', pattern },
      Tags: { type: 'map', key: { shape: 'Key' }, value: { shape: 'Name' }, max: 1 },
      Key: { type: 'string', min: 2 },
      Choice: { type: 'structure', union: true, members: { A: { shape: 'Key' }, B: { shape: 'Key' } } },
      At: { type: 'timestamp' },
    },
  });

  it('reports a pattern JavaScript cannot compile, and refuses the values it should have checked', () => {
    // A Java inline flag, as some botocore models have (amplify's `(?s).+`).
    const validator = new ServiceModelValidator(model('(?s).+'));
    expect(validator.uncompilablePatterns).toEqual([{ shape: 'Name', pattern: '(?s).+', error: expect.stringMatching(/Invalid (regular expression|group)/) }]);
    expect(validator.validateInput('Put', { Name: 'x' }).map((v) => v.rule)).toEqual(['uncheckable-pattern']);
  });

  it.each<[string, unknown, string[]]>([
    ['a map key too short and too many entries', { Name: 'x', Tags: { a: 'x', bb: 'y' } }, ['length@Tags', 'length@Tags.a.key']],
    ['a union with two members set', { Name: 'x', Choice: { A: 'aa', B: 'bb' } }, ['union@Choice']],
    ['a timestamp written as ISO text where the JSON protocol has epoch seconds', { Name: 'x', At: '2026-11-28T05:00:01Z' }, ['type@At']],
    ['a null required member (the JSON protocols take null for absent)', { Name: null }, ['required@Name']],
  ])('checks %s', (_what, input, expected) => {
    expect(new ServiceModelValidator(model('^.+$')).validateInput('Put', input).map((v) => `${v.rule}@${v.path}`).sort()).toEqual(expected);
  });

  it("checks other services' botocore models the same way", () => {
    const sqs = new ServiceModelValidator(loadBotocoreModel('sqs'));
    expect(sqs.validateInput('SendMessage', { MessageBody: 'x' }).map((v) => `${v.rule}@${v.path}`)).toEqual(['required@QueueUrl']);
  });
});
