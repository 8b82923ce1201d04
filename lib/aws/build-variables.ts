// The contract between CodeBuildBuilder (sets these on each build), infra/buildspec.yml and the
// build helper (read them), and the build-events function (reads the exported ones back).

/** Environment variables of a build. All PLAINTEXT except the password references. */
export const BUILD_ENV = {
  runId: 'CASCADE_RUN_ID',
  registry: 'CASCADE_REGISTRY',
  /** JSON array of fully qualified references to push, e.g. `["reg/app:da2"]`. */
  images: 'CASCADE_IMAGES',
  dockerfile: 'CASCADE_DOCKERFILE',
  /** JSON object of build arguments. */
  buildArgs: 'CASCADE_BUILD_ARGS',
  platform: 'CASCADE_PLATFORM',
  contextFolder: 'CASCADE_CONTEXT_FOLDER',
  /** `true` when CodeBuild has no source type for the host and the buildspec clones it itself. */
  clone: 'CASCADE_CLONE',
  gitUrl: 'CASCADE_GIT_URL',
  gitBranch: 'CASCADE_GIT_BRANCH',
  gitCommit: 'CASCADE_GIT_COMMIT',
  /** JSON array of `{ loginServer, roleArn }`: roles the build assumes to pull (not secret). */
  pullRoles: 'CASCADE_PULL_ROLES',
  /** JSON array of `{ loginServer, username, passwordVariable }`; the passwords are separate PARAMETER_STORE variables. */
  basicLogins: 'CASCADE_BASIC_LOGINS',
  /** PARAMETER_STORE: the push registry's stored login, JSON `{ username, password }`. */
  pushLogin: 'CASCADE_PUSH_LOGIN',
  /** A task file's run: JSON object of its template values (`Run.ID`, `Run.Registry`, …). */
  templateValues: 'CASCADE_TEMPLATE_VALUES',
} as const;

/** `CASCADE_REGISTRY_PASSWORD_0`, `_1`, …: PARAMETER_STORE variables, one per basic credential. */
export const PASSWORD_VARIABLE_PREFIX = 'CASCADE_REGISTRY_PASSWORD_';

/** Variables the buildspec exports; the build state change event carries their final values. */
export const EXPORTED = {
  runId: 'CASCADE_RUN_ID',
  /** JSON array of ResolvedBaseImage. */
  baseImages: 'CASCADE_BASE_IMAGES',
  /** JSON array of OutputImage. */
  outputImages: 'CASCADE_OUTPUT_IMAGES',
  /** One sentence saying why the build failed, when the buildspec knows. */
  error: 'CASCADE_ERROR',
  /** A task file's run: JSON array of RunStep. */
  steps: 'CASCADE_STEPS',
} as const;

export interface PullRole {
  loginServer: string;
  roleArn: string;
}

export interface BasicLogin {
  loginServer: string;
  username: string;
  passwordVariable: string;
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** The region of an ECR registry host, or undefined when the host is not ECR. */
export function ecrRegion(host: string): string | undefined {
  return ECR_HOST.exec(host.toLowerCase())?.[2];
}
