import { UnknownTemplateVariableError, ValidationError } from '../../../lib/domain/errors';
import { renderTemplate, runDate, validateTemplate } from '../../../lib/domain/templates';

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
