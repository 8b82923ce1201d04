// What people ask of cascade, as the domain takes it: the HTTP API validates its bodies into
// these (lib/http/api-schemas.ts, whose schemas are checked against them), and the CLI sends them.
import type { BaseImageTriggerType, Task } from './types';

/** A task's settings as given: a context and a Dockerfile path still to be parsed and checked. */
export interface TaskSettings {
  registry: string;
  images: string[];
  /** `URL[#branch[:folder]]` or an absolute local folder. */
  context: string;
  /** The Dockerfile, relative to the context. */
  file: string;
  args: Record<string, string>;
  platform: string;
  status: Task['status'];
  baseImageTriggerEnabled: boolean;
  baseImageTriggerType: BaseImageTriggerType;
  commitTriggerEnabled: boolean;
  /** Finished runs kept per task. */
  keepRuns: number;
  /** Days a finished run and its log are kept. */
  logRetentionDays: number;
}

/** A new task; the history settings may be left out (their defaults apply). */
export type CreateTaskInput = { name: string } & Omit<TaskSettings, 'keepRuns' | 'logRetentionDays'> & Partial<Pick<TaskSettings, 'keepRuns' | 'logRetentionDays'>>;

/** An update changes only what it names. */
export type UpdateTaskInput = Partial<TaskSettings>;

/** A credential for a registry the task pulls from: a username and password, or an IAM role to assume. */
export type AddCredentialInput = { loginServer: string; username: string; password: string } | { loginServer: string; identity: string };

/** `cascade build`: a run with no task. */
export interface QuickBuildInput {
  registry: string;
  images: string[];
  context: string;
  file: string;
  args: Record<string, string>;
  platform: string;
}
