// The tutorial's two Dockerfiles and their contexts, made on the spot: a small base built FROM
// scratch with the host's static busybox (no internet needed), and an app in a git repository.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const BUSYBOX = process.env.CASCADE_BUSYBOX ?? '/bin/busybox';

export function baseDockerfile(nodeVersion: string): string {
  return [
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
    `ENV NODE_VERSION ${nodeVersion}`,
    'CMD ["sh"]',
    '',
  ].join('\n');
}

export const APP_DOCKERFILE = [
  'ARG REGISTRY_NAME',
  'FROM ${REGISTRY_NAME}/baseimages/node:9-alpine',
  'COPY . /app',
  'CMD ["sh", "-c", "echo Hello from node $NODE_VERSION"]',
  '',
].join('\n');

/** A folder with busybox and `Dockerfile-base` for the given NODE_VERSION. */
export async function writeBaseContext(dir: string, nodeVersion: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await copyFile(BUSYBOX, join(dir, 'busybox'));
  await writeFile(join(dir, 'Dockerfile-base'), baseDockerfile(nodeVersion));
  return dir;
}

/** A bare git repository holding the app on branch main; returns its `file://` URL. */
export async function createAppRepository(dir: string): Promise<string> {
  const work = join(dir, 'work');
  const bare = join(dir, 'acr-build-helloworld-node.git');
  await mkdir(work, { recursive: true });
  await writeFile(join(work, 'Dockerfile-app'), APP_DOCKERFILE);
  await writeFile(join(work, 'server.js'), "console.log('Hello World!');\n");
  const git = (args: string[], cwd: string) =>
    run('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 'cascade', GIT_AUTHOR_EMAIL: 'cascade@example.com', GIT_COMMITTER_NAME: 'cascade', GIT_COMMITTER_EMAIL: 'cascade@example.com' } });
  await git(['init', '--quiet', '--initial-branch', 'main'], work);
  await git(['add', '.'], work);
  await git(['commit', '--quiet', '-m', 'Hello World app'], work);
  await git(['clone', '--quiet', '--bare', work, bare], dir);
  return `file://${bare}`;
}
