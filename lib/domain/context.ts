// Build contexts as `az acr` writes them: `URL[#branch[:folder]]`, or a local folder.
import { ValidationError } from './errors';
import type { BuildContext } from './types';

const GIT_URL = /^(?:https?:\/\/|ssh:\/\/|git:\/\/|file:\/\/|[\w.-]+@[\w.-]+:)/;

export function parseBuildContext(input: string): BuildContext {
  const text = input.trim();
  if (text.startsWith('/')) {
    if (text.split('/').includes('..')) throw new ValidationError(`context "${input}" must not contain ".."`, 'context');
    return { kind: 'local', path: text };
  }
  if (!GIT_URL.test(text)) {
    throw new ValidationError(
      `context "${input}" is neither a git URL (https://, ssh://, git@host:, file://) nor an absolute folder`,
      'context',
    );
  }
  const hash = text.indexOf('#');
  const url = hash === -1 ? text : text.slice(0, hash);
  const fragment = hash === -1 ? '' : text.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const branch = (colon === -1 ? fragment : fragment.slice(0, colon)) || 'main';
  const folder = (colon === -1 ? '' : fragment.slice(colon + 1)) || '.';
  if (!/^[\w./-]+$/.test(branch) || branch.includes('..') || branch.startsWith('-')) {
    throw new ValidationError(`branch "${branch}" in context "${input}" is not a valid branch name`, 'context');
  }
  if (folder.startsWith('/') || folder.split('/').includes('..')) {
    throw new ValidationError(`folder "${folder}" in context "${input}" must be relative and stay inside the repository`, 'context');
  }
  return { kind: 'git', url, branch, folder };
}

export function formatBuildContext(context: BuildContext): string {
  if (context.kind === 'local') return context.path;
  const folder = context.folder === '.' ? '' : `:${context.folder}`;
  return `${context.url}#${context.branch}${folder}`;
}

/** A path inside the context, such as the Dockerfile: relative, no way out. */
export function validateContextPath(path: string, field: string): string {
  const clean = path.replace(/^\.\/+/, '');
  if (!clean || clean.startsWith('/') || clean.split('/').includes('..')) {
    throw new ValidationError(`${field} "${path}" must be a relative path inside the context`, field);
  }
  return clean;
}
