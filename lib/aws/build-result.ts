// A "CodeBuild Build State Change" event, as EventBridge delivers it, to the BuildResult of the
// run the build belongs to. The run id is the CASCADE_RUN_ID variable CodeBuildBuilder set; what
// the build produced comes from the variables infra/buildspec.yml exports.
import type { Build } from '@aws-sdk/client-codebuild';
import * as z from 'zod';
import type { BuildResult, OutputImage, ResolvedBaseImage, RunStep } from '../domain/types';
import { EXPORTED } from './build-variables';

export type BuildEventOutcome = { kind: 'result'; result: BuildResult } | { kind: 'ignored'; reason: string };

const variableSchema = z.object({ name: z.string(), value: z.string().optional(), type: z.string().optional() });

const eventSchema = z.object({
  'detail-type': z.literal('CodeBuild Build State Change'),
  source: z.literal('aws.codebuild'),
  time: z.string(),
  detail: z.object({
    'build-status': z.string(),
    'project-name': z.string(),
    'build-id': z.string(),
    'additional-information': z
      .object({
        'timeout-in-minutes': z.number().optional(),
        environment: z.object({ 'environment-variables': z.array(variableSchema).optional() }).partial().optional(),
        'exported-environment-variables': z.array(variableSchema).optional(),
        phases: z
          .array(
            z.object({
              'phase-type': z.string().optional(),
              'phase-status': z.string().optional(),
              'phase-context': z.array(z.string()).optional(),
            }),
          )
          .optional(),
      })
      .optional(),
    // Seen at this level in some deliveries too.
    'exported-environment-variables': z.array(variableSchema).optional(),
  }),
});

export type CodeBuildStateChangeEvent = z.input<typeof eventSchema>;

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const outputImagesSchema = z.array(z.object({ reference: z.string().min(1), digest: z.string().regex(DIGEST) }));
const baseImagesSchema = z.array(
  z.object({
    registry: z.string().min(1),
    repository: z.string().min(1),
    tag: z.string().min(1).optional(),
    digest: z.string().regex(DIGEST),
    stage: z.enum(['runtime', 'build-time']),
    pinned: z.boolean(),
    step: z.string().min(1).optional(),
  }),
);
const stepsSchema = z.array(
  z.object({
    id: z.string().min(1),
    kind: z.enum(['build', 'cmd', 'push']),
    status: z.enum(['Succeeded', 'Failed', 'Timeout', 'Canceled', 'Skipped']),
    startedAt: z.string().optional(),
    durationMs: z.number().nonnegative().optional(),
    error: z.string().optional(),
    ignoredError: z.boolean().optional(),
  }),
);

const STATUSES: Record<string, BuildResult['status']> = {
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  FAULT: 'Error',
  TIMED_OUT: 'Timeout',
  STOPPED: 'Canceled',
};

export function buildResultFromEvent(raw: unknown, options: { projectName?: string } = {}): BuildEventOutcome {
  const parsed = eventSchema.safeParse(raw);
  if (!parsed.success) return { kind: 'ignored', reason: `not a CodeBuild build state change: ${parsed.error.issues[0]?.message ?? 'unreadable'}` };
  const { detail, time } = parsed.data;
  const buildStatus = detail['build-status'];
  if (options.projectName && detail['project-name'] !== options.projectName) {
    return { kind: 'ignored', reason: `build ${detail['build-id']} belongs to project ${detail['project-name']}, not ${options.projectName}` };
  }
  const status = STATUSES[buildStatus];
  if (!status) return { kind: 'ignored', reason: `build ${detail['build-id']} is ${buildStatus}, not finished` };

  const info = detail['additional-information'];
  const exported = new Map<string, string>();
  for (const v of [...(detail['exported-environment-variables'] ?? []), ...(info?.['exported-environment-variables'] ?? [])]) {
    if (v.value !== undefined) exported.set(v.name, v.value);
  }
  const given = info?.environment?.['environment-variables'] ?? [];
  const runId = given.find((v) => v.name === EXPORTED.runId && (v.type ?? 'PLAINTEXT') === 'PLAINTEXT')?.value ?? exported.get(EXPORTED.runId);
  if (!runId) return { kind: 'ignored', reason: `build ${detail['build-id']} was not started by cascade (no ${EXPORTED.runId})` };

  const finishedAt = Number.isNaN(Date.parse(time)) ? new Date().toISOString() : new Date(time).toISOString();
  const outputs = readJson(exported.get(EXPORTED.outputImages), outputImagesSchema);
  const bases = readJson(exported.get(EXPORTED.baseImages), baseImagesSchema);
  const result: BuildResult = {
    runId,
    status,
    finishedAt,
    outputImages: outputs.value as OutputImage[],
    baseImages: bases.value.map(withoutUndefinedTag),
  };
  // A task file's steps: only a view of the run, so an unreadable list is left out, not an error.
  const steps = exported.get(EXPORTED.steps);
  if (steps) {
    const parsedSteps = stepsSchema.safeParse(safeJson(steps));
    if (parsedSteps.success) result.steps = parsedSteps.data as RunStep[];
  }

  if (status === 'Succeeded') {
    const problem = outputs.problem ?? bases.problem;
    if (problem) {
      // Without readable digests the run's dependencies would be wrong: not a success cascade can record.
      result.status = 'Error';
      result.error = `the build succeeded but its report cannot be read (${problem}); see the build log`;
    }
  } else {
    result.error = exported.get(EXPORTED.error)?.trim() || describeFailure(buildStatus, info);
  }
  return { kind: 'result', result };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function withoutUndefinedTag(base: z.infer<typeof baseImagesSchema>[number]): ResolvedBaseImage {
  const { tag, ...rest } = base;
  return tag === undefined ? rest : { ...rest, tag };
}

function readJson<T extends z.ZodType>(text: string | undefined, schema: T): { value: z.infer<T> | []; problem?: string } {
  if (text === undefined || text === '') return { value: [], problem: 'it exported no image list' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { value: [], problem: 'an exported image list is not JSON' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { value: [], problem: `an exported image list is malformed: ${parsed.error.issues[0]?.message ?? ''}` };
  return { value: parsed.data };
}

type AdditionalInformation = NonNullable<z.infer<typeof eventSchema>['detail']['additional-information']>;

function describeFailure(buildStatus: string, info: AdditionalInformation | undefined): string {
  if (buildStatus === 'STOPPED') return 'the CodeBuild build was stopped';
  if (buildStatus === 'TIMED_OUT') {
    const minutes = info?.['timeout-in-minutes'];
    return minutes ? `the CodeBuild build did not finish within ${minutes} minutes` : 'the CodeBuild build timed out';
  }
  const failed = info?.phases?.find((p) => p['phase-status'] !== undefined && p['phase-status'] !== 'SUCCEEDED');
  const context = failed?.['phase-context']?.filter((c) => c.trim() !== '' && c.trim() !== ':').join('; ');
  if (failed?.['phase-type']) {
    return `the CodeBuild build failed in its ${failed['phase-type']} phase${context ? `: ${context}` : ''}`;
  }
  return buildStatus === 'FAULT' ? 'CodeBuild had an internal fault running the build' : 'the CodeBuild build failed';
}

/**
 * A build as BatchGetBuilds describes it, read the way its state change event would be: the
 * reconciler records what an event that never arrived would have said.
 */
export function buildResultFromBuild(build: Build, options: { projectName?: string } = {}): BuildEventOutcome {
  const time = build.endTime ?? build.startTime;
  const event: CodeBuildStateChangeEvent = {
    'detail-type': 'CodeBuild Build State Change',
    source: 'aws.codebuild',
    time: time ? time.toISOString() : '',
    detail: {
      'build-status': build.buildStatus ?? 'UNKNOWN',
      'project-name': build.projectName ?? '',
      'build-id': build.id ?? build.arn ?? '',
      'additional-information': {
        ...(build.timeoutInMinutes !== undefined && { 'timeout-in-minutes': build.timeoutInMinutes }),
        environment: {
          'environment-variables': (build.environment?.environmentVariables ?? []).map((v) => ({ name: v.name ?? '', value: v.value, type: v.type })),
        },
        'exported-environment-variables': (build.exportedEnvironmentVariables ?? []).map((v) => ({ name: v.name ?? '', value: v.value })),
        phases: (build.phases ?? []).map((phase) => ({
          'phase-type': phase.phaseType,
          'phase-status': phase.phaseStatus,
          // Events write each context as "STATUS_CODE: message".
          'phase-context': (phase.contexts ?? []).map((c) => `${c.statusCode ?? ''}: ${c.message ?? ''}`),
        })),
      },
    },
  };
  return buildResultFromEvent(event, options);
}
