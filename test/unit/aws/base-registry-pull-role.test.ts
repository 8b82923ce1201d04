// infra/base-registry-pull-role.yml, the template a base-image account deploys: a role cascade's
// build role may assume to pull (never push) the listed repositories, and a rule forwarding that
// account's successful ECR pushes to cascade's event bus.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { matchesEventPattern } from '../../support/event-pattern';

const ROOT = join(__dirname, '..', '..', '..');
type Json = Record<string, unknown>;
const template = parse(readFileSync(join(ROOT, 'infra', 'base-registry-pull-role.yml'), 'utf8')) as {
  Parameters: Record<string, Json>;
  Resources: Record<string, { Type: string; Properties: Json }>;
};
const fixture = (path: string): Json => JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', path), 'utf8')) as Json;

// The deploy's parameters, and the pseudo parameters of the base account.
const PARAMS: Record<string, unknown> = {
  CascadeBuildRoleArn: 'arn:aws:iam::123456789012:role/cascade-prod-BuildRole-1ABC',
  CascadeAccountId: '123456789012',
  Repositories: ['baseimages/node', 'baseimages/python'],
  RoleName: 'cascade-pull',
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '210987654321',
};

/** Evaluates the intrinsic functions the template uses, as CloudFormation would. */
function evaluate(value: unknown, vars: Record<string, unknown> = PARAMS): unknown {
  if (Array.isArray(value)) return value.map((v) => evaluate(v, vars));
  if (value === null || typeof value !== 'object') return value;
  const [[key, arg]] = Object.entries(value as Json) as [[string, unknown]];
  switch (key) {
    case 'Ref':
      if (!((arg as string) in vars)) throw new Error(`unknown Ref ${String(arg)}`);
      return vars[arg as string];
    case 'Fn::Join': {
      const [sep, items] = arg as [unknown, unknown];
      // CloudFormation refuses any function as the delimiter (cfn-lint E1018).
      if (typeof sep !== 'string') throw new Error(`Fn::Join takes a literal delimiter, not ${JSON.stringify(sep)}`);
      return (evaluate(items, vars) as string[]).join(sep);
    }
    case 'Fn::Split': {
      const [sep, text] = arg as [string, unknown];
      return (evaluate(text, vars) as string).split(sep);
    }
    case 'Fn::Sub': {
      const [text, locals] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Json]);
      const scope = { ...vars, ...Object.fromEntries(Object.entries(locals).map(([k, v]) => [k, evaluate(v, vars)])) };
      return text.replace(/\$\{([\w:]+)\}/g, (_m, name: string) => {
        if (!(name in scope)) throw new Error(`unknown \${${name}}`);
        return String(scope[name]);
      });
    }
    case 'Fn::GetAtt':
      return `<${(arg as string[]).join('.')}>`;
    default:
      return Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, evaluate(v, vars)]));
  }
}

const resource = (id: string) => evaluate(template.Resources[id]?.Properties) as Json;
const statements = (id: string) =>
  ((resource(id).Policies as Array<{ PolicyDocument: { Statement: Array<{ Action: string | string[]; Resource: unknown }> } }>) ?? []).flatMap((p) => p.PolicyDocument.Statement);

describe('infra/base-registry-pull-role.yml', () => {
  it('makes a role that only cascade’s build role may assume', () => {
    expect(resource('PullRole').AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: PARAMS.CascadeBuildRoleArn }, Action: 'sts:AssumeRole' }],
    });
  });

  it("lets that role pull the listed repositories of its own account and region, and nothing else", () => {
    const pull = statements('PullRole');
    expect(pull).toEqual([
      { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        // IAM puts the role's account in place of the variable.
        Resource: ['arn:*:ecr:*:${aws:PrincipalAccount}:repository/baseimages/node', 'arn:*:ecr:*:${aws:PrincipalAccount}:repository/baseimages/python'],
        Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } },
      },
    ]);
  });

  it.each<[string, Json, boolean]>([
    ["AWS's push example", fixture('webhooks/ecr/awsdocs-ecr-image-action-push-success.json'), true],
    ['a failed push', { ...fixture('webhooks/ecr/awsdocs-ecr-image-action-push-success.json'), detail: { result: 'FAILURE', 'action-type': 'PUSH' } }, false],
    ["AWS's delete example", fixture('webhooks/ecr/awsdocs-ecr-image-action-delete.json'), true],
    ['a failed delete', { ...fixture('webhooks/ecr/awsdocs-ecr-image-action-delete.json'), detail: { result: 'FAILURE', 'action-type': 'DELETE' } }, false],
  ])('forwards %s to cascade: %s', (_what, event, forwarded) => {
    expect(matchesEventPattern(resource('ForwardEcrPushes').EventPattern as never, event)).toBe(forwarded);
  });

  it("puts them on cascade's default bus with a role allowed nothing else", () => {
    const rule = resource('ForwardEcrPushes') as { Targets: Array<{ Arn: string; RoleArn: string }> };
    expect(rule.Targets).toEqual([{ Id: 'cascade', Arn: 'arn:aws:events:eu-west-1:123456789012:event-bus/default', RoleArn: '<ForwardRole.Arn>' }]);
    expect(statements('ForwardRole')).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: 'arn:aws:events:eu-west-1:123456789012:event-bus/default' }]);
    expect((resource('ForwardRole').AssumeRolePolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
  });
});
