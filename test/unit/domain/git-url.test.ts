import { ValidationError } from '../../../lib/domain/errors';
import { gitHost, gitUrlParts, normalizeGitUrl } from '../../../lib/domain/git-url';

describe('normalizeGitUrl', () => {
  // Every spelling in a group names the same repository.
  it.each<[string, string[]]>([
    [
      'github.com/octocat/hello-world',
      [
        'https://github.com/octocat/hello-world',
        'https://github.com/Octocat/Hello-World.git',
        'https://GitHub.com/octocat/hello-world/',
        'https://github.com/octocat/hello-world.git/',
        'HTTPS://GITHUB.COM/OCTOCAT/HELLO-WORLD.GIT',
        'http://github.com/octocat/hello-world',
        'https://github.com:443/octocat/hello-world',
        'https://x-access-token:ghs_s3cret@github.com/octocat/hello-world.git',
        'https://github.com//octocat//hello-world',
        'https://github.com/octocat/hello-world.git#main',
        'ssh://git@github.com/octocat/hello-world.git',
        'ssh://git@github.com:22/octocat/hello-world.git',
        'git+ssh://git@github.com/octocat/hello-world.git',
        'git://github.com/octocat/hello-world.git',
        'git@github.com:octocat/hello-world.git',
        'git@github.com:Octocat/Hello-World',
        'git@github.com:/octocat/hello-world.git',
        'github.com:octocat/hello-world.git',
        '  git@github.com:octocat/hello-world.git\n',
        'github.com/octocat/hello-world',
      ],
    ],
    ['gitlab.com/group/sub/project', ['https://gitlab.com/group/sub/project.git', 'git@gitlab.com:group/sub/project.git']],
    ['127.0.0.1:3000/alice/app', ['http://127.0.0.1:3000/alice/app.git', 'http://alice:pw@127.0.0.1:3000/Alice/App', '127.0.0.1:3000/alice/app']],
    ['gitea.local:2222/alice/app', ['ssh://git@gitea.local:2222/alice/app.git']],
    ['[::1]:8080/o/r', ['http://[::1]:8080/o/r.git']],
    ['github.com/o/my repo', ['https://github.com/o/my%20repo.git']],
    ['file:///tmp/Repos/App.git', ['file:///tmp/Repos/App.git', 'file:///tmp/Repos/App.git/', '/tmp/Repos/App.git', '/tmp/Repos/App.git//']],
    ['file:///tmp/my repo', ['file:///tmp/my%20repo', '/tmp/my repo/']],
  ])('%s', (canonical, spellings) => {
    for (const spelling of spellings) expect([spelling, normalizeGitUrl(spelling)]).toEqual([spelling, canonical]);
    // A canonical form normalizes to itself, so stored values can be normalized again safely.
    expect(normalizeGitUrl(canonical)).toBe(canonical);
  });

  it.each<[string, string]>([
    ['https://github.com/octocat/hello-world', 'https://github.com/octocat/hello-world2'],
    ['https://github.com/octocat/hello-world', 'https://gitlab.com/octocat/hello-world'],
    ['http://127.0.0.1:3000/o/r', 'http://127.0.0.1:3001/o/r'],
    ['file:///tmp/repo', 'file:///tmp/repo.git'],
    ['file:///tmp/Repo', 'file:///tmp/repo'],
  ])('%s and %s differ', (a, b) => {
    expect(normalizeGitUrl(a)).not.toBe(normalizeGitUrl(b));
  });

  it.each<[string, RegExp]>([
    ['', /empty/],
    ['   ', /empty/],
    ['https://github.com/', /no repository path/],
    ['https://github.com/.git', /no repository path/],
    ['git@github.com:', /expected https/],
    ['ftp://example.com/o/r', /unsupported scheme ftp/],
    ['https://github.com/o/%zz', /bad percent-encoding/],
    ['relative/path', /expected https/],
    ['just-words', /expected https/],
  ])('%j is not a git URL', (url, message) => {
    expect(() => normalizeGitUrl(url)).toThrow(ValidationError);
    expect(() => normalizeGitUrl(url)).toThrow(message);
  });

  it('never keeps credentials', () => {
    expect(normalizeGitUrl('https://user:hunter2@example.com/o/r.git')).not.toContain('hunter2');
  });
});

describe('gitUrlParts', () => {
  it.each<[string, { host: string; path: string } | undefined]>([
    ['https://Server.Bitbucket.Local/scm/~gopher/webhook-test.git', { host: 'server.bitbucket.local', path: 'scm/~gopher/webhook-test' }],
    ['ssh://git@server.bitbucket.local:7999/~gopher/webhook-test.git', { host: 'server.bitbucket.local', path: '~gopher/webhook-test' }],
    ['http://[::1]:8080/o/r.git', { host: '[::1]', path: 'o/r' }],
    ['git@gitlab.com:group/sub/project.git', { host: 'gitlab.com', path: 'group/sub/project' }],
    ['/srv/repos/app', undefined],
  ])('%s', (url, parts) => {
    expect(gitUrlParts(normalizeGitUrl(url))).toEqual(parts);
  });
});

describe('gitHost', () => {
  it.each<[string, string]>([
    ['Server.Bitbucket.Local:7990', 'server.bitbucket.local'],
    ['server.bitbucket.local', 'server.bitbucket.local'],
    ['[::1]:7999', '[::1]'],
    ['[::1]', '[::1]'],
  ])('%s → %s', (given, host) => {
    expect(gitHost(given)).toBe(host);
  });
});
