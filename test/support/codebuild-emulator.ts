// A CodeBuild stand-in for tests: an HTTP server speaking CodeBuild's awsJson1_1 protocol, which
// a real CodeBuildClient is pointed at. moto's CodeBuild answers with ISO-string timestamps the
// JS SDK cannot read and ignores overrides; this one checks every request against CodeBuild's
// own service model (test/support/service-model.ts), answers in the recorded real shapes of
// test/fixtures/aws/, keeps StartBuild's five-minute idempotency on a clock the test moves, and
// emits the real "CodeBuild Build State Change" event when a test finishes a build.
//
//   const codebuild = await startCodeBuildEmulator({ clock });
//   const client = new CodeBuildClient({ endpoint: codebuild.url, region: 'eu-west-1', credentials });
//   // or, for a child process: AWS_ENDPOINT_URL_CODEBUILD=<codebuild.url>
//   codebuild.dropAnswers('StartBuild', 'reset');      // the next StartBuild creates its build, its answer is lost
//   const event = codebuild.finish(buildId, { status: 'SUCCEEDED', exported: { CASCADE_OUTPUT_IMAGES: '[…]' } });
//   // event: what EventBridge delivers (PutEvents it on a bus, or hand it to the build-events handler)
//   expect(codebuild.refused).toEqual([]);            // no request broke the model
//   expect(codebuild.created).toHaveLength(1);        // builds StartBuild created
//   await codebuild.close();
//
// Operations: StartBuild, BatchGetBuilds, StopBuild, ListBuildsForProject. Any other operation
// the model has is answered 400 and recorded in `refused` (the emulator does not know it); one
// the model lacks is UnknownOperationException.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { systemClock, type Clock } from '../../lib/domain/ports';
import { loadBotocoreModel, ServiceModelValidator, validationMessage, type ConstraintViolation } from './service-model';

const ROOT = join(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');

export type CodeBuildOperation = 'StartBuild' | 'BatchGetBuilds' | 'StopBuild' | 'ListBuildsForProject';
export type BuildStatus = 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'STOPPED' | 'IN_PROGRESS';
export type PhaseType = 'SUBMITTED' | 'QUEUED' | 'PROVISIONING' | 'DOWNLOAD_SOURCE' | 'INSTALL' | 'PRE_BUILD' | 'BUILD' | 'POST_BUILD' | 'UPLOAD_ARTIFACTS' | 'FINALIZING' | 'COMPLETED';

/** How an answer is lost after the work was done: the connection dropped, or bytes no client can read. */
export type LostAnswer = 'reset' | 'garbled';

/** A build as CodeBuild's JSON protocol carries it: timestamps in epoch seconds. */
export interface WireBuild {
  id: string;
  arn: string;
  buildNumber: number;
  projectName: string;
  buildStatus: BuildStatus;
  currentPhase: string;
  buildComplete: boolean;
  startTime: number;
  endTime?: number;
  sourceVersion?: string;
  source: { type: string; location?: string; gitCloneDepth?: number; buildspec?: string; [key: string]: unknown };
  environment: { type: string; image: string; computeType: string; privilegedMode?: boolean; environmentVariables: Array<{ name: string; value: string; type?: string }>; [key: string]: unknown };
  phases: Array<{ phaseType: PhaseType; phaseStatus?: string; startTime: number; endTime?: number; durationInSeconds?: number; contexts?: Array<{ statusCode: string; message: string }> }>;
  exportedEnvironmentVariables?: Array<{ name: string; value: string }>;
  logs: Record<string, unknown>;
  timeoutInMinutes: number;
  queuedTimeoutInMinutes: number;
  initiator: string;
  [key: string]: unknown;
}

/** A request the model (or the protocol) refused, answered as AWS would. */
export interface RefusedRequest {
  operation: string;
  input: unknown;
  /** What AWS would name the error: ValidationException, SerializationException, … */
  error: string;
  message: string;
  violations: ConstraintViolation[];
}

/** The "CodeBuild Build State Change" event EventBridge delivers, as in test/fixtures/events/buildEvents.json. */
export interface BuildStateChangeEvent {
  version: '0';
  id: string;
  'detail-type': 'CodeBuild Build State Change';
  source: 'aws.codebuild';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown> & { 'build-status': BuildStatus; 'project-name': string; 'build-id': string };
}

export interface FinishOptions {
  status: Exclude<BuildStatus, 'IN_PROGRESS'>;
  /** Final values of the variables the buildspec exports (infra/buildspec.yml `env.exported-variables`). */
  exported?: Record<string, string>;
  /** The phase that failed, timed out or was stopped (BUILD unless said). */
  phase?: PhaseType;
  /** The failed phase's context, as CodeBuild writes it. */
  context?: { statusCode: string; message: string };
}

export interface CodeBuildEmulatorOptions {
  /** The clock builds and idempotency tokens are timed with; move it to let five minutes pass. */
  clock?: Clock;
  region?: string;
  accountId?: string;
  /** Projects that exist; StartBuild of another is ResourceNotFoundException. */
  projects?: string[];
}

export interface CodeBuildEmulator {
  /** `http://127.0.0.1:<port>`: the client's `endpoint`, or AWS_ENDPOINT_URL_CODEBUILD. */
  readonly url: string;
  /** Every request that reached it, in order. */
  readonly requests: ReadonlyArray<{ operation: string; input: unknown }>;
  /** Requests refused for breaking the model or the protocol: assert it is empty. */
  readonly refused: ReadonlyArray<RefusedRequest>;
  /** Answers of its own that broke the model's output shapes (an emulator bug): assert it is empty. */
  readonly answerProblems: ReadonlyArray<string>;
  /** Builds StartBuild created, oldest first; a StartBuild answered from its idempotency token creates none. */
  readonly created: ReadonlyArray<WireBuild>;
  /** State change events of every build that ended (finish, StopBuild), in order. */
  readonly events: ReadonlyArray<BuildStateChangeEvent>;
  build(idOrArn: string): WireBuild | undefined;
  /** Builds whose environment has `name` = `value` (e.g. CASCADE_RUN_ID = da1). */
  buildsWith(name: string, value: string): WireBuild[];
  /** The next `count` answers of `operation` are lost; the work (a build created) is done first. */
  dropAnswers(operation: CodeBuildOperation, how: LostAnswer, count?: number): void;
  /** The next answer of `operation` is this refusal, and nothing is done. */
  refuseNext(operation: CodeBuildOperation, error: 'InvalidInputException' | 'ResourceNotFoundException' | 'AccountLimitExceededException' | 'ThrottlingException', message?: string): void;
  /** Ends a running build as CodeBuild would, and returns the event EventBridge delivers for it. */
  finish(idOrArn: string, options: FinishOptions): BuildStateChangeEvent;
  close(): Promise<void>;
}

/** StartBuild's idempotency token holds for five minutes (the StartBuild documentation). */
export const IDEMPOTENCY_WINDOW_MS = 5 * 60 * 1000;
const PAGE_SIZE = 100;
const PHASES: PhaseType[] = ['SUBMITTED', 'QUEUED', 'PROVISIONING', 'DOWNLOAD_SOURCE', 'INSTALL', 'PRE_BUILD', 'BUILD', 'POST_BUILD', 'UPLOAD_ARTIFACTS', 'FINALIZING', 'COMPLETED'];
/** Phases CodeBuild still runs after the BUILD phase failed. */
const AFTER_FAILURE: PhaseType[] = ['POST_BUILD', 'UPLOAD_ARTIFACTS', 'FINALIZING'];
/** StartBuild members this emulator applies to the build; any other is refused loudly rather than ignored. */
const APPLIED_OVERRIDES = new Set([
  'projectName',
  'idempotencyToken',
  'sourceTypeOverride',
  'sourceLocationOverride',
  'sourceVersion',
  'gitCloneDepthOverride',
  'environmentVariablesOverride',
  'buildspecOverride',
  'imageOverride',
  'computeTypeOverride',
  'privilegedModeOverride',
  'timeoutInMinutesOverride',
  'queuedTimeoutInMinutesOverride',
]);

class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The names infra/buildspec.yml exports: only these come back in the event. */
function exportedVariableNames(): string[] {
  const spec = parseYaml(readFileSync(join(ROOT, 'infra', 'buildspec.yml'), 'utf8')) as { env?: { 'exported-variables'?: string[] } };
  return spec.env?.['exported-variables'] ?? [];
}

/** Epoch seconds with milliseconds, as the JSON protocol writes timestamps. */
const epoch = (date: Date) => Math.round(date.getTime()) / 1000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** `Nov 28, 2026 5:00:01 AM`: how the state change event writes times (Java's default format, UTC). */
function eventTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const h = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()} ${h % 12 === 0 ? 12 : h % 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

/** The same JSON whatever the order of its keys: what "the same request" means for a token. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export async function startCodeBuildEmulator(options: CodeBuildEmulatorOptions = {}): Promise<CodeBuildEmulator> {
  const clock = options.clock ?? systemClock;
  const region = options.region ?? 'eu-west-1';
  const accountId = options.accountId ?? '123456789012';
  const projects = new Set(options.projects ?? ['cascade-dev']);
  const model = loadBotocoreModel('codebuild', '2016-10-06');
  const validator = new ServiceModelValidator(model);
  const targetPrefix = model.metadata.targetPrefix ?? 'CodeBuild_20161006';
  const template = readJson<{ build: WireBuild }>(join(FIXTURES, 'aws', 'codebuild-start-build.json')).build;
  const finishedTemplate = readJson<{ builds: WireBuild[] }>(join(FIXTURES, 'aws', 'codebuild-batch-get-builds.json')).builds[0] as WireBuild;
  const eventTemplate = readJson<BuildStateChangeEvent>(join(FIXTURES, 'events', 'buildEvents.json'));
  const exportedNames = exportedVariableNames();

  const requests: Array<{ operation: string; input: unknown }> = [];
  const refused: RefusedRequest[] = [];
  const answerProblems: string[] = [];
  const created: WireBuild[] = [];
  const events: BuildStateChangeEvent[] = [];
  const byId = new Map<string, WireBuild>();
  const tokens = new Map<string, { request: string; buildId: string; at: number }>();
  const drops: Array<{ operation: string; how: LostAnswer }> = [];
  const refusals: Array<{ operation: string; error: string; message: string }> = [];
  const buildNumbers = new Map<string, number>();

  const arnOf = (id: string) => `arn:aws:codebuild:${region}:${accountId}:build/${id}`;
  const projectArn = (name: string) => `arn:aws:codebuild:${region}:${accountId}:project/${name}`;
  const find = (idOrArn: string) => byId.get(idOrArn.startsWith('arn:') ? idOrArn.slice(idOrArn.indexOf(':build/') + ':build/'.length) : idOrArn);

  function startBuild(input: Record<string, unknown>): { build: WireBuild } {
    const unapplied = Object.keys(input).filter((k) => !APPLIED_OVERRIDES.has(k));
    if (unapplied.length > 0) {
      throw new AwsError('InternalFailure', `codebuild-emulator: ${unapplied.join(', ')} is valid but not applied by this emulator; teach it before relying on it`, 500);
    }
    const projectName = input.projectName as string;
    if (!projects.has(projectName)) throw new AwsError('ResourceNotFoundException', `Project cannot be found: ${projectArn(projectName)}`);
    const now = clock.now().getTime();
    const token = input.idempotencyToken as string | undefined;
    if (token !== undefined) {
      const known = tokens.get(token);
      if (known && now - known.at < IDEMPOTENCY_WINDOW_MS) {
        if (known.request !== canonical(input)) {
          throw new AwsError('InvalidInputException', `idempotency token ${token} was used with other parameters less than five minutes ago (parameter mismatch)`);
        }
        return { build: structuredClone(byId.get(known.buildId) as WireBuild) };
      }
    }
    const build = newBuild(input, now);
    byId.set(build.id, build);
    created.push(build);
    if (token !== undefined) tokens.set(token, { request: canonical(input), buildId: build.id, at: now });
    return { build: structuredClone(build) };
  }

  function newBuild(input: Record<string, unknown>, now: number): WireBuild {
    const projectName = input.projectName as string;
    const uuid = randomUUID();
    const id = `${projectName}:${uuid}`;
    const number = (buildNumbers.get(projectName) ?? 0) + 1;
    buildNumbers.set(projectName, number);
    const start = epoch(new Date(now));
    const build = structuredClone(template);
    delete build.sourceVersion;
    const variables = new Map<string, { name: string; value: string; type?: string }>();
    // The project defines no variables of its own; the override's replace any of the same name.
    for (const v of (input.environmentVariablesOverride as WireBuild['environment']['environmentVariables'] | undefined) ?? []) {
      variables.set(v.name, { name: v.name, value: v.value, type: v.type ?? 'PLAINTEXT' });
    }
    const source: WireBuild['source'] = { type: (input.sourceTypeOverride as string | undefined) ?? 'NO_SOURCE', buildspec: (input.buildspecOverride as string | undefined) ?? template.source.buildspec, insecureSsl: false };
    if (input.sourceLocationOverride !== undefined) source.location = input.sourceLocationOverride as string;
    if (input.gitCloneDepthOverride !== undefined) source.gitCloneDepth = input.gitCloneDepthOverride as number;
    Object.assign(build, {
      id,
      arn: arnOf(id),
      buildNumber: number,
      projectName,
      startTime: start,
      currentPhase: 'QUEUED',
      buildStatus: 'IN_PROGRESS',
      buildComplete: false,
      phases: [
        { phaseType: 'SUBMITTED', phaseStatus: 'SUCCEEDED', startTime: start, endTime: start, durationInSeconds: 0 },
        { phaseType: 'QUEUED', startTime: start },
      ],
      source,
      environment: {
        ...template.environment,
        ...(input.imageOverride !== undefined && { image: input.imageOverride }),
        ...(input.computeTypeOverride !== undefined && { computeType: input.computeTypeOverride }),
        ...(input.privilegedModeOverride !== undefined && { privilegedMode: input.privilegedModeOverride }),
        environmentVariables: [...variables.values()],
      },
      timeoutInMinutes: (input.timeoutInMinutesOverride as number | undefined) ?? template.timeoutInMinutes,
      queuedTimeoutInMinutes: (input.queuedTimeoutInMinutesOverride as number | undefined) ?? template.queuedTimeoutInMinutes,
      ...(input.sourceVersion !== undefined && { sourceVersion: input.sourceVersion }),
    });
    return build;
  }

  function batchGetBuilds(input: { ids: string[] }): { builds: WireBuild[]; buildsNotFound: string[] } {
    const builds: WireBuild[] = [];
    const buildsNotFound: string[] = [];
    for (const id of input.ids) {
      const build = find(id);
      if (build && !builds.includes(build)) builds.push(build);
      else if (!build) buildsNotFound.push(id);
    }
    return { builds: structuredClone(builds), buildsNotFound };
  }

  function listBuildsForProject(input: { projectName: string; sortOrder?: 'ASCENDING' | 'DESCENDING'; nextToken?: string }): { ids: string[]; nextToken?: string } {
    if (!projects.has(input.projectName)) throw new AwsError('ResourceNotFoundException', `Project cannot be found: ${projectArn(input.projectName)}`);
    const all = created.filter((b) => b.projectName === input.projectName);
    // Documented: "If the project has more than 100 builds, setting the sort order will result in an error."
    if (input.sortOrder !== undefined && all.length > PAGE_SIZE) throw new AwsError('InvalidInputException', 'sortOrder cannot be set for a project with more than 100 builds');
    const ascending = input.sortOrder === 'ASCENDING';
    // The token names the last build number of the page before, so builds created meanwhile do not shift pages.
    let after: number | undefined;
    if (input.nextToken !== undefined) {
      const decoded = Buffer.from(input.nextToken, 'base64').toString('utf8');
      if (!/^[0-9]+$/.test(decoded)) throw new AwsError('InvalidInputException', 'Invalid next token');
      after = Number(decoded);
    }
    const ordered = [...all].sort((a, b) => (ascending ? a.buildNumber - b.buildNumber : b.buildNumber - a.buildNumber));
    const rest = after === undefined ? ordered : ordered.filter((b) => (ascending ? b.buildNumber > after : b.buildNumber < after));
    const page = rest.slice(0, PAGE_SIZE);
    const last = page.at(-1);
    return { ids: page.map((b) => b.id), ...(rest.length > PAGE_SIZE && last && { nextToken: Buffer.from(String(last.buildNumber)).toString('base64') }) };
  }

  function stopBuild(input: { id: string }): { build: WireBuild } {
    const build = find(input.id);
    if (!build) throw new AwsError('ResourceNotFoundException', `Build cannot be found: ${input.id}`);
    if (build.buildComplete) throw new AwsError('InvalidInputException', `Build ${build.id} has already completed and cannot be stopped`);
    end(build, { status: 'STOPPED' });
    return { build: structuredClone(build) };
  }

  /** Moves a running build to its end and records the event EventBridge would deliver. */
  function end(build: WireBuild, finish: FinishOptions): BuildStateChangeEvent {
    const stop = epoch(clock.now());
    const failedAt = finish.status === 'SUCCEEDED' ? undefined : (finish.phase ?? 'BUILD');
    const ran: PhaseType[] = [];
    for (const phase of PHASES.slice(0, -1)) {
      if (failedAt !== undefined && PHASES.indexOf(phase) > PHASES.indexOf(failedAt)) {
        // After a failed BUILD the post-build phases still run; anything else goes straight to FINALIZING.
        if (finish.status === 'FAILED' ? AFTER_FAILURE.includes(phase) : phase === 'FINALIZING') ran.push(phase);
      } else {
        ran.push(phase);
      }
    }
    // The phases share the time from start to now; SUBMITTED keeps its recorded end.
    const step = (stop - build.startTime) / ran.length;
    build.phases = ran.map((phaseType, i) => {
      const startTime = Math.round((build.startTime + i * step) * 1000) / 1000;
      const endTime = Math.round((build.startTime + (i + 1) * step) * 1000) / 1000;
      const status = phaseType === failedAt ? finish.status : 'SUCCEEDED';
      const failed = phaseType === failedAt && finish.status !== 'STOPPED';
      const contexts = phaseType === 'SUBMITTED' || phaseType === 'QUEUED' ? undefined : [failed ? (finish.context ?? defaultContext(finish.status)) : { statusCode: '', message: '' }];
      return { phaseType, phaseStatus: status, startTime, endTime, durationInSeconds: Math.floor(endTime - startTime), ...(contexts && { contexts }) };
    });
    build.phases.push({ phaseType: 'COMPLETED', startTime: stop });
    const given = finish.exported ?? {};
    const undeclared = Object.keys(given).filter((name) => !exportedNames.includes(name));
    if (undeclared.length > 0) throw new Error(`infra/buildspec.yml does not export ${undeclared.join(', ')}; its exported variables are ${exportedNames.join(', ')}`);
    const environmentValue = (name: string) => build.environment.environmentVariables.find((v) => v.name === name && (v.type ?? 'PLAINTEXT') === 'PLAINTEXT')?.value;
    Object.assign(build, {
      buildStatus: finish.status,
      buildComplete: true,
      currentPhase: 'COMPLETED',
      endTime: stop,
      logs: { ...finishedTemplate.logs, streamName: build.id.split(':')[1], deepLink: String(finishedTemplate.logs.deepLink).replace(/stream=.*$/, `stream=${build.id.split(':')[1]}`), cloudWatchLogsArn: String(finishedTemplate.logs.cloudWatchLogsArn).replace(/log-stream:.*$/, `log-stream:${build.id.split(':')[1]}`) },
      exportedEnvironmentVariables: exportedNames.map((name) => ({ name, value: given[name] ?? environmentValue(name) ?? '' })),
      ...(build.sourceVersion !== undefined && build.source.type !== 'NO_SOURCE' && { resolvedSourceVersion: /^[0-9a-f]{40}$/.test(build.sourceVersion) ? build.sourceVersion : 'fd489864e7642b48eaad6e3f155c10e46810ec72' }),
    });
    const event = stateChangeEvent(build);
    events.push(event);
    return event;
  }

  function defaultContext(status: FinishOptions['status']): { statusCode: string; message: string } {
    if (status === 'TIMED_OUT') return { statusCode: 'BUILD_TIMED_OUT', message: 'Build has timed out. ' };
    if (status === 'FAULT') return { statusCode: 'CLIENT_ERROR', message: 'internal service error' };
    return { statusCode: 'COMMAND_EXECUTION_ERROR', message: 'Error while executing command: ( set -eo pipefail ... ). Reason: exit status 1' };
  }

  /** The event's detail, shaped and ordered as test/fixtures/events/buildEvents.json (a real delivery's shape). */
  function stateChangeEvent(build: WireBuild): BuildStateChangeEvent {
    const stream = build.id.split(':')[1];
    const source: Record<string, unknown> = { type: build.source.type };
    if (build.source.location !== undefined) source.location = build.source.location;
    if (build.source.gitCloneDepth !== undefined) source['git-clone-depth'] = build.source.gitCloneDepth;
    const templateInfo = eventTemplate.detail['additional-information'] as Record<string, unknown>;
    return {
      ...eventTemplate,
      id: randomUUID(),
      account: accountId,
      region,
      time: new Date((build.endTime ?? build.startTime) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      resources: [build.arn],
      detail: {
        'build-status': build.buildStatus,
        'project-name': build.projectName,
        'build-id': build.arn,
        'additional-information': {
          cache: templateInfo.cache,
          'timeout-in-minutes': build.timeoutInMinutes,
          'build-complete': build.buildComplete,
          initiator: build.initiator,
          'build-start-time': eventTime(build.startTime),
          source,
          ...(build.sourceVersion !== undefined && { 'source-version': build.sourceVersion }),
          artifact: { location: '' },
          environment: {
            image: build.environment.image,
            'privileged-mode': build.environment.privilegedMode ?? false,
            'compute-type': build.environment.computeType,
            type: build.environment.type,
            'environment-variables': build.environment.environmentVariables.map((v) => ({ name: v.name, type: v.type ?? 'PLAINTEXT', value: v.value })),
          },
          'project-file-system-locations': [],
          logs: { 'group-name': build.logs.groupName, 'stream-name': stream, 'deep-link': build.logs.deepLink },
          phases: build.phases.map((p) =>
            p.phaseType === 'COMPLETED'
              ? { 'start-time': eventTime(p.startTime), 'phase-type': p.phaseType }
              : {
                  'phase-context': (p.contexts ?? []).map((c) => `${c.statusCode}: ${c.message}`),
                  'start-time': eventTime(p.startTime),
                  'end-time': eventTime(p.endTime ?? p.startTime),
                  'duration-in-seconds': p.durationInSeconds ?? 0,
                  'phase-type': p.phaseType,
                  'phase-status': p.phaseStatus,
                },
          ),
          'queued-timeout-in-minutes': build.queuedTimeoutInMinutes,
          'exported-environment-variables': (build.exportedEnvironmentVariables ?? []).map((v) => ({ name: v.name, value: v.value })),
        },
        'current-phase': build.currentPhase,
        'current-phase-context': '[]',
        version: '1',
      },
    };
  }

  const handlers: Record<CodeBuildOperation, (input: never) => unknown> = {
    StartBuild: startBuild,
    BatchGetBuilds: batchGetBuilds,
    StopBuild: stopBuild,
    ListBuildsForProject: listBuildsForProject,
  };

  function handle(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(`${targetPrefix}.`) ? target.slice(targetPrefix.length + 1) : target;
    let input: unknown;
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(payload));
    };
    const refuse = (error: string, message: string, violations: ConstraintViolation[] = [], status = 400) => {
      refused.push({ operation, input, error, message, violations });
      send(status, { __type: error, message });
    };
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      input = body.toString('utf8');
      return refuse('SerializationException', 'the request body is not JSON');
    }
    requests.push({ operation, input });
    if (req.method !== 'POST') return refuse('UnknownOperationException', `the awsJson1_1 protocol takes POST, not ${req.method}`);
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) return refuse('SerializationException', `content-type ${String(req.headers['content-type'])} is not application/x-amz-json-1.1`);
    // A client configured for another service, or unsigned, never reaches CodeBuild.
    if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/codebuild\/aws4_request/.test(String(req.headers.authorization ?? ''))) {
      return refuse('IncompleteSignatureException', 'the request is not signed with SigV4 for the codebuild service', [], 403);
    }
    if (!target.startsWith(`${targetPrefix}.`) || !model.operations[operation]) return refuse('UnknownOperationException', `unknown operation ${target}`);
    const violations = validator.validateInput(operation, input);
    if (violations.length > 0) return refuse('ValidationException', validationMessage(violations), violations);
    if (!(operation in handlers)) return refuse('UnknownOperationException', `codebuild-emulator does not emulate ${operation}`, [], 400);

    const refusal = refusals.findIndex((r) => r.operation === operation);
    if (refusal >= 0) {
      const { error, message } = refusals.splice(refusal, 1)[0]!;
      return send(400, { __type: error, message });
    }
    let answer: unknown;
    try {
      answer = handlers[operation as CodeBuildOperation](input as never);
    } catch (error) {
      if (!(error instanceof AwsError)) throw error;
      if (error.status >= 500) refused.push({ operation, input, error: error.type, message: error.message, violations: [] });
      return send(error.status, { __type: error.type, message: error.message });
    }
    const outputShape = model.operations[operation]?.output?.shape;
    const problems = outputShape ? validator.validateShape(outputShape, answer, { answer: true }) : [];
    if (problems.length > 0) {
      answerProblems.push(`${operation}: ${validationMessage(problems)}`);
      return send(500, { __type: 'InternalFailure', message: `codebuild-emulator's answer breaks the model: ${validationMessage(problems)}` });
    }
    const drop = drops.findIndex((d) => d.operation === operation);
    if (drop >= 0) {
      const { how } = drops.splice(drop, 1)[0]!;
      if (how === 'reset') {
        req.socket.destroy();
        return;
      }
      // A body cut short: the status says success, the JSON cannot be read.
      const text = JSON.stringify(answer);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
      return;
    }
    send(200, answer);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        handle(req, Buffer.concat(chunks), res);
      } catch (error) {
        answerProblems.push(`emulator failure: ${(error as Error).stack ?? String(error)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InternalFailure', message: (error as Error).message }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    refused,
    answerProblems,
    created,
    events,
    build: (idOrArn) => {
      const build = find(idOrArn);
      return build && structuredClone(build);
    },
    buildsWith: (name, value) => created.filter((b) => b.environment.environmentVariables.some((v) => v.name === name && v.value === value)).map((b) => structuredClone(b)),
    dropAnswers(operation, how, count = 1) {
      for (let i = 0; i < count; i += 1) drops.push({ operation, how });
    },
    refuseNext(operation, error, message = `${error} (injected by the test)`) {
      refusals.push({ operation, error, message });
    },
    finish(idOrArn, finishOptions) {
      const build = find(idOrArn);
      if (!build) throw new Error(`no build ${idOrArn} was created`);
      if (build.buildComplete) throw new Error(`build ${build.id} has already ended (${build.buildStatus})`);
      return structuredClone(end(build, finishOptions));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
