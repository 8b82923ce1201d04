// The poller function, on a schedule (serverless.yml, every pollIntervalMinutes): one manifest
// HEAD per watched base image and platform, and an image event for each that changed.
//
//   serverless invoke local -f poller -p test/fixtures/events/poller.json
import middy from '@middy/core';
import { setTimeout as sleep } from 'node:timers/promises';
import { awsCascade, awsConfig, lazy } from '../lib/aws/wiring';
import type { Cascade } from '../lib/domain/cascade';
import type { PollReport } from '../lib/domain/poller';

/** At most this long a pass waits before it starts: installations started together do not poll in step. */
const MAX_JITTER_MS = 20_000;

export function createPollerHandler(cascade: Cascade, options: { jitterMs: () => number }) {
  return async (): Promise<PollReport> => {
    await sleep(options.jitterMs());
    const report = await cascade.poller.poll();
    console.log(JSON.stringify({ level: report.failed.length > 0 ? 'warn' : 'info', message: 'polled', ...report }));
    return report;
  };
}

// No waiting under `serverless invoke local` (which sets IS_LOCAL): a person is watching.
const poller = lazy(() =>
  createPollerHandler(awsCascade(), {
    jitterMs: () => (process.env.IS_LOCAL === 'true' ? 0 : Math.random() * Math.min(MAX_JITTER_MS, awsConfig().pollIntervalSeconds * 100)),
  }),
);

export const handler = middy<unknown, PollReport>().handler(() => poller()());
