// The HTTP API's request bodies, validated at the edge. Inside, the domain trusts these types.
import * as z from 'zod';
import { ValidationError } from '../domain/errors';
import { RUN_STATUSES } from '../domain/types';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,49}$/;
const HOST = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;
const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const nameSchema = z.string().regex(NAME, 'must be 1-50 letters, digits, "-" or "_", starting with a letter or digit');
export const hostSchema = z.string().regex(HOST, 'must be a registry host such as "myregistry.example.com" or "127.0.0.1:5000"');
const buildArgsSchema = z.record(z.string().regex(ARG_NAME, 'build arg names are letters, digits and "_"'), z.string());
const platformSchema = z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/, 'must look like "linux/amd64"');

export const createTaskSchema = z.strictObject({
  name: nameSchema,
  registry: hostSchema,
  images: z.array(z.string().min(1)).min(1, 'at least one --image is required'),
  /** `URL[#branch[:folder]]` or an absolute local folder. */
  context: z.string().min(1),
  file: z.string().min(1).default('Dockerfile'),
  args: buildArgsSchema.default({}),
  platform: platformSchema.default('linux/amd64'),
  status: z.enum(['Enabled', 'Disabled']).default('Enabled'),
  baseImageTriggerEnabled: z.boolean().default(true),
  baseImageTriggerType: z.enum(['Runtime', 'All']).default('Runtime'),
  commitTriggerEnabled: z.boolean().default(true),
});
export type CreateTaskInput = z.infer<typeof createTaskSchema>;

export const updateTaskSchema = createTaskSchema.omit({ name: true }).partial();
export type UpdateTaskInput = z.infer<typeof updateTaskSchema>;

export const addCredentialSchema = z.union([
  z.strictObject({ loginServer: hostSchema, username: z.string().min(1), password: z.string().min(1) }),
  z.strictObject({ loginServer: hostSchema, identity: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN') }),
]);
export type AddCredentialInput = z.infer<typeof addCredentialSchema>;

export const runTaskSchema = z.strictObject({}).default({});

export const quickBuildSchema = z.strictObject({
  registry: hostSchema,
  images: z.array(z.string().min(1)).min(1, 'at least one --image is required'),
  context: z.string().min(1),
  file: z.string().min(1).default('Dockerfile'),
  args: buildArgsSchema.default({}),
  platform: platformSchema.default('linux/amd64'),
});
export type QuickBuildInput = z.infer<typeof quickBuildSchema>;

export const registryLoginSchema = z.strictObject({ username: z.string().min(1), password: z.string().min(1) });

export const createWebhookSchema = z.strictObject({
  name: nameSchema,
  provider: z.string().min(1),
  loginServer: hostSchema.optional(),
});

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
