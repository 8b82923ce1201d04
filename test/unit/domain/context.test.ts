import { formatBuildContext, parseBuildContext, validateContextPath } from '../../../lib/domain/context';
import { ValidationError } from '../../../lib/domain/errors';

describe('build contexts', () => {
  it.each([
    ['https://github.com/Azure-Samples/acr-build-helloworld-node.git', { kind: 'git', url: 'https://github.com/Azure-Samples/acr-build-helloworld-node.git', branch: 'main', folder: '.' }],
    ['https://github.com/o/r.git#develop', { kind: 'git', url: 'https://github.com/o/r.git', branch: 'develop', folder: '.' }],
    ['https://github.com/o/r.git#release/1.0:src/app', { kind: 'git', url: 'https://github.com/o/r.git', branch: 'release/1.0', folder: 'src/app' }],
    ['git@github.com:o/r.git#main:docker', { kind: 'git', url: 'git@github.com:o/r.git', branch: 'main', folder: 'docker' }],
    ['file:///srv/git/app.git', { kind: 'git', url: 'file:///srv/git/app.git', branch: 'main', folder: '.' }],
    ['/home/me/app', { kind: 'local', path: '/home/me/app' }],
  ])('parses %s', (input, expected) => {
    expect(parseBuildContext(input)).toEqual(expected);
    expect(parseBuildContext(formatBuildContext(parseBuildContext(input)))).toEqual(expected);
  });

  it.each([
    ['relative/folder', 'is neither a git URL'],
    ['https://github.com/o/r.git#-x', 'is not a valid branch name'],
    ['https://github.com/o/r.git#main:../etc', 'must be relative and stay inside the repository'],
    ['/home/me/../etc', 'must not contain ".."'],
  ])('refuses %s', (input, message) => {
    expect(() => parseBuildContext(input)).toThrow(ValidationError);
    expect(() => parseBuildContext(input)).toThrow(message);
  });

  it.each([
    ['Dockerfile', 'Dockerfile'],
    ['./docker/Dockerfile-app', 'docker/Dockerfile-app'],
  ])('accepts the path %s', (path, clean) => expect(validateContextPath(path, 'file')).toBe(clean));

  it.each(['../Dockerfile', '/etc/passwd', '', 'a/../../b'])('refuses the path %p', (path) => {
    expect(() => validateContextPath(path, 'file')).toThrow(ValidationError);
  });
});
