import { UnknownTemplateVariableError, ValidationError } from '../../../lib/domain/errors';
import { matchesRef, matchesRepository, renderTemplate, runDate, templateMatcher, validateTemplate } from '../../../lib/domain/templates';

describe('image templates', () => {
  const values = {
    'Run.ID': 'da12',
    'Run.Registry': 'app.example.com',
    'Run.Date': '20261128-044111z',
    'Run.TaskName': 'hello',
    'Run.Commit': 'abc123',
    'Run.Branch': 'main',
  } as const;

  it.each([
    ['helloworld:{{.Run.ID}}', 'helloworld:da12'],
    ['helloworld:{{ .Run.ID }}', 'helloworld:da12'],
    ['{{.Run.TaskName}}:{{.Run.Branch}}-{{.Run.Commit}}', 'hello:main-abc123'],
    ['hello:{{.Run.Date}}', 'hello:20261128-044111z'],
    ['hello:latest', 'hello:latest'],
  ])('renders %s as %s', (template, expected) => {
    validateTemplate(template);
    expect(renderTemplate(template, values)).toBe(expected);
  });

  it('renders a variable without a value as empty', () => {
    expect(renderTemplate('hello:{{.Run.Commit}}x', {})).toBe('hello:x');
  });

  it.each([
    ['hello:{{.Run.Nope}}', UnknownTemplateVariableError, 'unknown template variable {{.Run.Nope}} in "hello:{{.Run.Nope}}"'],
    ['hello:{{.Build.ID}}', UnknownTemplateVariableError, 'unknown template variable {{.Build.ID}} in "hello:{{.Build.ID}}"'],
    ['hello:{{.Run.ID', ValidationError, 'unbalanced "{{" in image template "hello:{{.Run.ID"'],
  ])('refuses %s', (template, type, message) => {
    expect(() => validateTemplate(template)).toThrow(type);
    expect(() => validateTemplate(template)).toThrow(message);
  });

  it('formats {{.Run.Date}} in UTC', () => {
    expect(runDate(new Date('2026-11-28T04:41:11.789Z'))).toBe('20261128-044111z');
  });
});

describe('what an image template can render', () => {
  const split = (ref: string) => ({ name: ref.slice(0, ref.lastIndexOf(':')), tag: ref.slice(ref.lastIndexOf(':') + 1) });

  it.each<{ why: string; registry?: string; template: string; ref: string; repository: boolean; tag: boolean }>([
    { why: 'a run id', template: 'app:{{.Run.ID}}', ref: 'reg.io/app:da12', repository: true, tag: true },
    { why: 'a run id is never latest', template: 'app:{{.Run.ID}}', ref: 'reg.io/app:latest', repository: true, tag: false },
    { why: 'no tag is latest', template: 'app', ref: 'reg.io/app:latest', repository: true, tag: true },
    { why: 'no tag is not any tag', template: 'app', ref: 'reg.io/app:1.0', repository: true, tag: false },
    { why: 'literal parts around a variable', template: 'app:v{{.Run.ID}}-x', ref: 'reg.io/app:vda3-x', repository: true, tag: true },
    { why: 'a variable is never empty', template: 'app:v{{.Run.ID}}', ref: 'reg.io/app:v', repository: true, tag: false },
    { why: 'a variable in the path', template: '{{.Run.TaskName}}/app:1', ref: 'reg.io/team/app:1', repository: true, tag: true },
    { why: 'another repository', template: 'app:{{.Run.ID}}', ref: 'reg.io/app2:da12', repository: false, tag: false },
    { why: 'another registry', template: 'app:1', ref: 'other.io/app:1', repository: false, tag: false },
    { why: 'the registry as references spell it', registry: 'REG.IO', template: 'app:1', ref: 'reg.io/app:1', repository: true, tag: true },
    { why: "Docker Hub's official images", registry: 'index.docker.io', template: 'node:20', ref: 'docker.io/library/node:20', repository: true, tag: true },
    { why: 'no reference whatever the variables hold', template: 'App:1', ref: 'reg.io/app:1', repository: false, tag: false },
    { why: 'a digest is never pushed', template: `app@sha256:${'a'.repeat(64)}`, ref: 'reg.io/app:latest', repository: false, tag: false },
  ])('$template → $ref: $why', ({ registry, template, ref, repository, tag }) => {
    const matcher = templateMatcher(registry ?? 'reg.io', template);
    expect([matchesRepository(matcher, split(ref)), matchesRef(matcher, split(ref))]).toEqual([repository, tag]);
  });

  it.each([
    ['app:{{ .Run.ID }}', 'reg.io/app:{{.Run.ID}}'],
    ['app', 'reg.io/app:latest'],
    ['{{.Run.TaskName}}/app', 'reg.io/{{.Run.TaskName}}/app:latest'],
    ['App:1', 'reg.io/App:1'],
  ])('shows %p fully qualified as %p', (template, text) => {
    expect(templateMatcher('reg.io', template).text).toBe(text);
  });
});
