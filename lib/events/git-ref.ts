// The rule every git host's ref update goes through, so that GitLab, Bitbucket, Gitea and Azure
// DevOps ignore the same things GitHub does, with the same reasons: only a branch moving to a
// commit is a trigger. A branch created at a commit is a push like any other.

/** SHA-1 today; SHA-256 object names for repositories that use them. */
export const COMMIT = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
export const COMMIT_MESSAGE = 'expected a commit id (40 or 64 lower-case hex digits)';
// Hosts report a deleted ref as a move to the all-zero object name.
const ZERO_COMMIT = /^0+$/;

export function commitProblem(field: string, value: string): string | undefined {
  return COMMIT.test(value) ? undefined : `${field}: invalid commit id "${value}" (${COMMIT_MESSAGE})`;
}

/**
 * Why an update of `ref` to `commit` starts nothing, or undefined when it is a branch push.
 * `deleted` is for hosts that say so outright (a change type) rather than by the zero commit.
 */
export function refUpdateSkipReason(ref: string, commit: string, deleted = false): string | undefined {
  if (deleted || ZERO_COMMIT.test(commit)) return `deletion of ${ref} is not a build trigger`;
  if (ref.startsWith('refs/tags/')) return `tag push ${ref} is not a branch push`;
  if (!ref.startsWith('refs/heads/') || ref === 'refs/heads/') return `push to ${ref} is not a branch push`;
  return undefined;
}
