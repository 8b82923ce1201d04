// Every IAM permission of the stack, in one place: one role per function, each allowed exactly
// what its code calls (test/unit/aws/template.test.ts runs each function and compares what it
// called with its role), the build role, and which base accounts may put their ECR events on
// this account's event bus. serverless.yml reads it as ${file(infra/permissions.cjs)}.
//
// The deployment's settings come from serverless params (serverless.yml `params:`, or
// `--param="basePullRoleArns=arn:aws:iam::210987654321:role/cascade-pull"` when deploying):
//   appRepositories   ECR repositories in this account the builds push to, comma-separated
//   basePullRoleArns  roles in base accounts the builds may assume to pull (infra/base-registry-pull-role.yml)
//   baseAccountIds    accounts whose ECR push events may be forwarded to this account's default bus

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const REPOSITORY = /^(?:\*|[a-z0-9]+(?:[._/-][a-z0-9]+)*(?:\/\*)?)$/;

const join = (...parts) => ({ 'Fn::Join': ['', parts] });
const arn = (service, resource) => join('arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`);
const att = (logicalId) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

function list(value, name, pattern) {
  const items = String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!pattern.test(item)) throw new Error(`serverless param ${name}: "${item}" is not valid`);
  }
  return items;
}

/** serverless names a function's log group resource after the function: api → ApiLogGroup. */
const logGroupOf = (fn) => `${fn.charAt(0).toUpperCase()}${fn.slice(1)}LogGroup`;

// What each function may do, by resource. The names are the stack's logical ids.
const TABLE = [att('CascadeTable'), join(att('CascadeTable'), '/index/*')];
const records = (...actions) => ({ Sid: 'Records', Action: actions.map((a) => `dynamodb:${a}`), Resource: TABLE });
const queueSend = { Sid: 'QueueSend', Action: 'sqs:SendMessage', Resource: att('CascadeQueue') };
// What the SQS event source mapping does with the function's role.
const queueConsume = {
  Sid: 'QueueConsume',
  Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes'],
  Resource: att('CascadeQueue'),
};
// Asynchronous invocations that fail every retry land here (the functions' onFailure destination).
const deadLetters = { Sid: 'DeadLetters', Action: 'sqs:SendMessage', Resource: att('CascadeDeadLetterQueue') };
const builds = (...actions) => ({ Sid: 'Builds', Action: actions.map((a) => `codebuild:${a}`), Resource: att('BuildProject') });
const secrets = (prefix, ...actions) => ({ Sid: 'Secrets', Action: actions.map((a) => `ssm:${a}`), Resource: arn('ssm', `parameter${prefix}/*`) });
// Timer schedules live in the stack's group; Scheduler is handed SchedulerRole to invoke with.
const schedules = {
  Sid: 'TimerSchedules',
  Action: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
  Resource: join('arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':schedule/', { Ref: 'TimerScheduleGroup' }, '/*'),
};
const passSchedulerRole = { Sid: 'PassSchedulerRole', Action: 'iam:PassRole', Resource: att('SchedulerRole') };
// A log group's Arn attribute ends in `:*`, covering its streams.
const buildLogs = (...actions) => ({ Sid: 'BuildLogs', Action: actions.map((a) => `logs:${a}`), Resource: att('BuildLogGroup') });

function functionStatements(prefix) {
  // BatchWriteItem deletes a task's dependencies with the task (api) and writes a fan-out's runs
  // (dispatcher); transactions need the item actions.
  const all = ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'];
  // A run's end can start the run waiting behind it and queue the events held behind it, so
  // every function that finishes runs may start builds and send messages. A start that is tried
  // again (a queued start-run, a run the reconciler resumes) past CodeBuild's five-minute
  // idempotency first looks for the build an earlier attempt may have begun: ListBuildsForProject
  // and BatchGetBuilds.
  return {
    api: [
      records(...all, 'BatchWriteItem'),
      queueSend,
      builds('StartBuild', 'StopBuild'),
      secrets(prefix, 'GetParameter', 'PutParameter', 'DeleteParameter'),
      buildLogs('GetLogEvents', 'CreateLogStream', 'PutLogEvents'),
      schedules,
      passSchedulerRole,
    ],
    // UpdateItem: each delivery's line in its webhook's history (lib/adapters/dynamodb-webhook-delivery-log.ts).
    webhook: [records('GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'), queueSend],
    dispatcher: [records(...all, 'BatchGetItem', 'BatchWriteItem'), queueSend, queueConsume, builds('StartBuild', 'ListBuildsForProject', 'BatchGetBuilds'), secrets(prefix, 'GetParameter'), buildLogs('CreateLogStream', 'PutLogEvents')],
    registryEvents: [records('PutItem', 'DeleteItem'), queueSend, deadLetters],
    // A run's end prunes its task's history beyond the kept runs: BatchWriteItem deletes them.
    // A finished build writes no whole item: runs, slots, edges and its task's capture are updates.
    buildEvents: [records('GetItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchWriteItem'), queueSend, builds('StartBuild'), secrets(prefix, 'GetParameter'), buildLogs('CreateLogStream', 'PutLogEvents'), deadLetters],
    reconciler: [records('GetItem', 'UpdateItem', 'DeleteItem', 'Query', 'BatchWriteItem'), queueSend, builds('BatchGetBuilds', 'StartBuild', 'ListBuildsForProject'), secrets(prefix, 'GetParameter'), buildLogs('CreateLogStream', 'PutLogEvents')],
    // Reads the watched tags and their state, records what it saw, queues the changes.
    // (and reads the registry logins cascade was given, to ask private registries).
    poller: [records('GetItem', 'PutItem', 'DeleteItem', 'Query'), queueSend, secrets(prefix, 'GetParameter')],
  };
}

/** What EventBridge Scheduler does with a timer: invoke the dispatcher, or hand up a failure. */
function schedulerRole(dispatcherName) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: "cascade's timers: EventBridge Scheduler invokes the dispatcher with each occurrence",
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Policies: [
        {
          PolicyName: 'timers',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Sid: 'InvokeDispatcher', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: arn('lambda', `function:${dispatcherName}`) },
              { Sid: 'FailedInvocations', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: att('CascadeDeadLetterQueue') },
            ],
          },
        },
      ],
    },
  };
}

function lambdaRole(fn, statements) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `cascade's ${fn} function`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: fn,
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Sid: 'OwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: att(logGroupOf(fn)) },
              ...statements.map((s) => ({ Effect: 'Allow', ...s })),
            ],
          },
        },
      ],
    },
  };
}

function buildRole({ prefix, repositories, pullRoles }) {
  const statements = [
    { Sid: 'WriteBuildLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: att('BuildLogGroup') },
    // ECR issues login tokens per registry, not per repository: this action has no narrower resource.
    { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    {
      Sid: 'PushAppImages',
      Effect: 'Allow',
      Action: [
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:GetDownloadUrlForLayer',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:CompleteLayerUpload',
        'ecr:PutImage',
      ],
      Resource: repositories.map((name) => arn('ecr', `repository/${name}`)),
    },
    // CodeBuild reads PARAMETER_STORE variables (registry passwords) with this role.
    { Sid: 'ReadRegistryPasswords', Effect: 'Allow', Action: 'ssm:GetParameters', Resource: arn('ssm', `parameter${prefix}/*`) },
    { Sid: 'CloneCodeCommit', Effect: 'Allow', Action: 'codecommit:GitPull', Resource: arn('codecommit', '*') },
  ];
  // Base images in other accounts are pulled through these roles only; never their push rights.
  if (pullRoles.length > 0) statements.push({ Sid: 'AssumePullRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: pullRoles });
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: "cascade's builds: push to the app repositories, pull bases through the base accounts' pull roles",
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'codebuild.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
      Policies: [{ PolicyName: 'build', PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
    },
  };
}

/** The default bus accepts ECR events that base accounts' rules forward to it, and nothing else from them. */
function busPolicy(accounts) {
  return {
    Type: 'AWS::Events::EventBusPolicy',
    Properties: {
      StatementId: 'cascade-base-accounts-ecr-events',
      EventBusName: 'default',
      Statement: {
        Effect: 'Allow',
        Principal: { AWS: accounts.map((id) => join('arn:', { Ref: 'AWS::Partition' }, `:iam::${id}:root`)) },
        Action: 'events:PutEvents',
        Resource: join('arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':event-bus/default'),
        Condition: { StringEquals: { 'events:source': 'aws.ecr', 'events:detail-type': 'ECR Image Action' } },
      },
    },
  };
}

/** A role's logical id: api → ApiRole. */
const roleOf = (fn) => `${fn.charAt(0).toUpperCase()}${fn.slice(1)}Role`;

async function resources({ resolveVariable }) {
  const prefix = await resolveVariable('self:custom.secretsPrefix');
  const settings = {
    prefix,
    repositories: list(await resolveVariable('param:appRepositories'), 'appRepositories', REPOSITORY),
    pullRoles: list(await resolveVariable('param:basePullRoleArns'), 'basePullRoleArns', ROLE_ARN),
    accounts: list(await resolveVariable('param:baseAccountIds'), 'baseAccountIds', ACCOUNT_ID),
  };
  if (settings.repositories.length === 0) throw new Error('serverless param appRepositories names no repository the builds may push to');
  const dispatcherName = `${await resolveVariable('self:service')}-${await resolveVariable('sls:stage')}-dispatcher`;
  // serverless names functions `<service>-<stage>-<function>`.
  const Resources = { BuildRole: buildRole(settings), SchedulerRole: schedulerRole(dispatcherName) };
  for (const [fn, statements] of Object.entries(functionStatements(prefix))) Resources[roleOf(fn)] = lambdaRole(fn, statements);
  if (settings.accounts.length > 0) Resources.BaseAccountsEcrEvents = busPolicy(settings.accounts);
  return {
    Resources,
    Outputs: {
      BuildRoleArn: { Description: 'The role base accounts\' pull roles must trust (infra/base-registry-pull-role.yml)', Value: att('BuildRole') },
    },
  };
}

module.exports = resources;
module.exports.roleOf = roleOf;
