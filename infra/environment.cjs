// The functions' environment (lib/aws/config.ts reads it). Deployed, the values are CloudFormation
// references to the stack's own table, queue, project and API. `serverless invoke local` cannot
// resolve those without a deployed stack, so there they come from the shell, with defaults for a
// machine that runs DynamoDB Local (point AWS_ENDPOINT_URL_DYNAMODB at it):
//
//   AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 TABLE_NAME=cascade \
//     npx serverless invoke local -f api -p test/fixtures/events/api.json
//
// Other services are reached as configured: AWS_ENDPOINT_URL_CODEBUILD and the like point them
// elsewhere, and SQS goes to the host of QUEUE_URL (plain HTTP is accepted on 127.0.0.1).
//
// serverless.yml reads it as ${file(infra/environment.cjs)}; serverless loads it with require().

/** True under `serverless invoke local`: the only command that runs the functions on this machine. */
function invokedLocally(argv = process.argv) {
  const words = argv.slice(2).filter((word) => !word.startsWith('-'));
  return words[0] === 'invoke' && words[1] === 'local';
}

module.exports = async ({ resolveVariable }) => {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const region = await resolveVariable('self:provider.region');
  const common = {
    SECRETS_PREFIX: await resolveVariable('self:custom.secretsPrefix'),
    RUN_ID_PREFIX: await resolveVariable('self:custom.runIdPrefix'),
    POLL_INTERVAL_SECONDS: String(Number(await resolveVariable('param:pollIntervalMinutes')) * 60),
    // lib/aws/logger.ts reads it; Lambda's own AWS_LAMBDA_LOG_LEVEL, when set, wins.
    POWERTOOLS_LOG_LEVEL: await resolveVariable('param:logLevel'),
  };
  if (invokedLocally()) {
    const env = process.env;
    return {
      ...common,
      POWERTOOLS_LOG_LEVEL: env.POWERTOOLS_LOG_LEVEL || common.POWERTOOLS_LOG_LEVEL,
      TABLE_NAME: env.TABLE_NAME || `${service}-${stage}`,
      QUEUE_URL: env.QUEUE_URL || `https://sqs.${region}.amazonaws.com/000000000000/${service}-${stage}`,
      CODEBUILD_PROJECT: env.CODEBUILD_PROJECT || `${service}-${stage}`,
      BUILD_LOG_GROUP: env.BUILD_LOG_GROUP || `/aws/codebuild/${service}-${stage}`,
      PUBLIC_URL: env.PUBLIC_URL || 'http://127.0.0.1:3000',
    };
  }
  return {
    ...common,
    TABLE_NAME: { Ref: 'CascadeTable' },
    QUEUE_URL: { Ref: 'CascadeQueue' },
    CODEBUILD_PROJECT: { Ref: 'BuildProject' },
    BUILD_LOG_GROUP: { Ref: 'BuildLogGroup' },
    PUBLIC_URL: { 'Fn::GetAtt': ['HttpApi', 'ApiEndpoint'] },
    // Timers (infra/scheduler.yml). The dispatcher's ARN is spelled out, not referenced: a
    // reference from its own environment would make the function depend on itself.
    SCHEDULE_GROUP: { Ref: 'TimerScheduleGroup' },
    SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': ['SchedulerRole', 'Arn'] },
    DISPATCHER_ARN: { 'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${service}-${stage}-dispatcher` },
    DEAD_LETTER_ARN: { 'Fn::GetAtt': ['CascadeDeadLetterQueue', 'Arn'] },
  };
};

module.exports.invokedLocally = invokedLocally;
