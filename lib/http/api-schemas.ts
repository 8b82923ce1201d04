// The HTTP API's request bodies, validated at the edge into the domain's input types
// (lib/domain/inputs.ts: `satisfies` keeps each schema's output one of them). Inside, the domain
// trusts those types.
import * as z from 'zod';
import { ValidationError } from '../domain/errors';
import type { AddCredentialInput, CreateTaskInput, QuickBuildInput, UpdateTaskInput } from '../domain/inputs';
import { DEFAULT_HISTORY, RUN_STATUSES } from '../domain/types';
import { NOTIFICATION_FORMATS, type AddNotificationInput } from '../domain/notifications/notification';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$/;
const HOST = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;
const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const nameSchema = z.string().regex(NAME, 'must be 1-50 letters, digits, "-" or "_", starting with a letter or digit');
export const hostSchema = z.string().regex(HOST, 'must be a registry host such as "myregistry.example.com" or "127.0.0.1:5000"');
const buildArgsSchema = z.record(z.string().regex(ARG_NAME, 'build arg names are letters, digits and "_"'), z.string());
const platformSchema = z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/, 'must look like "linux/amd64"');

/** What a task is made of, with no defaults: an update changes only what it names. */
const taskFields = {
  registry: hostSchema,
  images: z.array(z.string().min(1)).min(1, 'at least one --image is required'),
  /** `URL[#branch[:folder]]` or an absolute local folder. */
  context: z.string().min(1),
  file: z.string().min(1),
  args: buildArgsSchema,
  platform: platformSchema,
  status: z.enum(['Enabled', 'Disabled']),
  baseImageTriggerEnabled: z.boolean(),
  baseImageTriggerType: z.enum(['Runtime', 'All']),
  commitTriggerEnabled: z.boolean(),
  /** Finished runs kept per task. */
  keepRuns: z.number().int().min(1).max(1000),
  /** Days a finished run and its log are kept. */
  logRetentionDays: z.number().int().min(1).max(365),
};

export const createTaskSchema = z.strictObject({
  name: nameSchema,
  ...taskFields,
  // None with a task file (its push steps name them); the domain asks for one with a Dockerfile.
  images: z.array(z.string().min(1)).default([]),
  file: taskFields.file.default('Dockerfile'),
  args: taskFields.args.default({}),
  platform: taskFields.platform.default('linux/amd64'),
  status: taskFields.status.default('Enabled'),
  baseImageTriggerEnabled: taskFields.baseImageTriggerEnabled.default(true),
  baseImageTriggerType: taskFields.baseImageTriggerType.default('Runtime'),
  commitTriggerEnabled: taskFields.commitTriggerEnabled.default(true),
  keepRuns: taskFields.keepRuns.default(DEFAULT_HISTORY.keepRuns),
  logRetentionDays: taskFields.logRetentionDays.default(DEFAULT_HISTORY.logRetentionDays),
}) satisfies z.ZodType<CreateTaskInput>;

// Not createTaskSchema.partial(): its defaults would fill in every field left out, and an
// update of one field would re-enable a disabled task and drop its build args.
export const updateTaskSchema = z.strictObject(taskFields).partial() satisfies z.ZodType<UpdateTaskInput>;

const cronText = z.string().min(1).max(200);
export const addTimerSchema = z.strictObject({ name: nameSchema, schedule: cronText, enabled: z.boolean().default(true) });
export const updateTimerSchema = z
  .strictObject({ schedule: cronText.optional(), enabled: z.boolean().optional() })
  .refine((v) => v.schedule !== undefined || v.enabled !== undefined, 'give a schedule or enabled to change');

export const graphQuerySchema = z.strictObject({ image: z.string().min(1).max(500).optional(), task: nameSchema.optional() });
export const explainQuerySchema = z.strictObject({ image: z.string().min(1).max(500), digest: z.string().min(1).max(200) });

export const addCredentialSchema = z.union([
  z.strictObject({ loginServer: hostSchema, username: z.string().min(1), password: z.string().min(1) }),
  z.strictObject({ loginServer: hostSchema, identity: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN') }),
]) satisfies z.ZodType<AddCredentialInput>;

export const runTaskSchema = z.strictObject({}).default({});

export const quickBuildSchema = z.strictObject({
  registry: hostSchema,
  images: z.array(z.string().min(1)).default([]),
  context: z.string().min(1),
  file: z.string().min(1).default('Dockerfile'),
  args: buildArgsSchema.default({}),
  platform: platformSchema.default('linux/amd64'),
}) satisfies z.ZodType<QuickBuildInput>;

export const registryLoginSchema = z.strictObject({ username: z.string().min(1), password: z.string().min(1) });

export const createWebhookSchema = z.strictObject({
  name: nameSchema,
  provider: z.string().min(1),
  loginServer: hostSchema.optional(),
});

/** The URL and the events are checked by the domain (lib/domain/notifications), which names what is wrong. */
export const addNotificationSchema = z.strictObject({
  name: nameSchema,
  url: z.string().min(1),
  events: z.array(z.string()).max(20).optional(),
  format: z.enum(NOTIFICATION_FORMATS).default('json'),
  task: nameSchema.optional(),
}) satisfies z.ZodType<AddNotificationInput>;

export const listDeliveriesQuerySchema = z.strictObject({ top: z.coerce.number().int().min(1).max(100).default(20) });

export const listRunsQuerySchema = z.strictObject({
  task: nameSchema.optional(),
  status: z.enum(RUN_STATUSES as [string, ...string[]]).optional(),
  top: z.coerce.number().int().min(1).max(1000).default(15),
});

/** Parses `input` or throws a ValidationError naming the first offending field. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join('.') || undefined;
  const message = issue?.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid input');
  throw new ValidationError(path ? `${path}: ${message}` : message, path);
}
