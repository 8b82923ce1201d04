// The build-events function: EventBridge's "CodeBuild Build State Change" for the project. A
// finished build becomes its run's result (status, pushed images, the bases it pulled); a build
// still in progress, or not started by cascade, changes nothing.
//
//   serverless invoke -f buildEvents -p test/fixtures/events/buildEvents.json
import middy from '@middy/core';
import { buildResultFromEvent, type BuildEventOutcome } from '../lib/aws/build-result';
import { logger, type Logger } from '../lib/aws/logger';
import { functionHandler, logContext } from '../lib/aws/middleware';
import { awsCascade, awsConfig, cascadeOf, type CascadeSource } from '../lib/aws/wiring';

export interface BuildEventsOptions {
  /** The project whose builds are cascade's; a function is asked on the first event (on AWS, the environment). */
  projectName?: string | (() => string);
}

export function createBuildEventsHandler(cascade: CascadeSource, options: BuildEventsOptions = {}, log: Logger = logger) {
  return functionHandler<unknown, BuildEventOutcome>(
    middy<unknown, BuildEventOutcome>()
      .use(logContext(log))
      .handler(async (event) => {
        const projectName = typeof options.projectName === 'function' ? options.projectName() : options.projectName;
        const outcome = buildResultFromEvent(event, { projectName });
        if (outcome.kind === 'ignored') {
          log.info('build event ignored', { reason: outcome.reason });
          return outcome;
        }
        log.appendKeys({ runId: outcome.result.runId });
        // Throws on failure, so Lambda retries the asynchronous invocation.
        await cascadeOf(cascade).process({ type: 'build-result', result: outcome.result });
        log.info('build result recorded', { status: outcome.result.status });
        return outcome;
      }),
  );
}

export const handler = createBuildEventsHandler(awsCascade, { projectName: () => awsConfig().codeBuildProject });
