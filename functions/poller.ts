// The poller function, on a schedule (serverless.yml, every pollIntervalMinutes): one manifest
// HEAD per watched base image and platform, and an image event for each that changed.
//
//   serverless invoke local -f poller -p test/fixtures/events/poller.json
import middy from '@middy/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { logger, type Logger } from '../lib/aws/logger';
import { functionHandler, logContext } from '../lib/aws/middleware';
import { awsCascade, awsConfig, cascadeOf, type CascadeSource } from '../lib/aws/wiring';
import type { PollReport } from '../lib/domain/poller';

/** At most this long a pass waits before it starts: installations started together do not poll in step. */
const MAX_JITTER_MS = 20_000;

export function createPollerHandler(cascade: CascadeSource, options: { jitterMs: () => number }, log: Logger = logger) {
  return functionHandler<void, PollReport>(
    middy<void, PollReport>()
      .use(logContext(log))
      .handler(async () => {
        await sleep(options.jitterMs());
        const report = await cascadeOf(cascade).poller.poll();
        // Each change queued has its line, with its delivery id (lib/aws/wiring.ts); this is the pass.
        if (report.failed.length > 0) log.warn('polled', { ...report });
        else log.info('polled', { ...report });
        return report;
      }),
  );
}

// No waiting under `serverless invoke local` (which sets IS_LOCAL): a person is watching.
export const handler = createPollerHandler(awsCascade, {
  jitterMs: () => (process.env.IS_LOCAL === 'true' ? 0 : Math.random() * Math.min(MAX_JITTER_MS, awsConfig().pollIntervalSeconds * 100)),
});
