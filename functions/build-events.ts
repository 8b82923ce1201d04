// The build-events function: EventBridge's "CodeBuild Build State Change" for the project. A
// finished build becomes its run's result (status, pushed images, the bases it pulled); a build
// still in progress, or not started by cascade, changes nothing.
//
//   serverless invoke -f buildEvents -p test/fixtures/events/buildEvents.json
import middy from '@middy/core';
import { buildResultFromEvent, type BuildEventOutcome } from '../lib/aws/build-result';
import { awsCascade, awsConfig, lazy } from '../lib/aws/wiring';
import type { Cascade } from '../lib/domain/cascade';

export function createBuildEventsHandler(cascade: Cascade, options: { projectName?: string } = {}) {
  return async (event: unknown): Promise<BuildEventOutcome> => {
    const outcome = buildResultFromEvent(event, options);
    if (outcome.kind === 'ignored') {
      console.log(JSON.stringify({ level: 'info', message: 'build event ignored', reason: outcome.reason }));
      return outcome;
    }
    // Throws on failure, so Lambda retries the asynchronous invocation.
    await cascade.process({ type: 'build-result', result: outcome.result });
    return outcome;
  };
}

const buildEvents = lazy(() => createBuildEventsHandler(awsCascade(), { projectName: awsConfig().codeBuildProject }));

export const handler = middy<unknown, BuildEventOutcome>().handler((event) => buildEvents()(event));
