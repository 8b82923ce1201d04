// The reconciler function, on a schedule: heals runs whose CodeBuild state change event was lost
// (BatchGetBuilds, at most 100 builds a call) and starts runs a crash left Queued without a build.
//
//   serverless invoke local -f reconciler -p test/fixtures/events/reconciler.json
import middy from '@middy/core';
import { logger, type Logger } from '../lib/aws/logger';
import { functionHandler, logContext } from '../lib/aws/middleware';
import { awsCascade, cascadeOf, type CascadeSource } from '../lib/aws/wiring';
import type { ReconcileReport } from '../lib/domain/recovery';

export function createReconcilerHandler(cascade: CascadeSource, options: { queuedGraceMs?: number } = {}, log: Logger = logger) {
  return functionHandler<void, ReconcileReport>(
    middy<void, ReconcileReport>()
      .use(logContext(log))
      .handler(async () => {
        const report = await cascadeOf(cascade).recovery.reconcile(options);
        // A line per run healed, so that a run's lines can be found by its id.
        for (const { runId, status } of report.recorded) log.info('recorded the result of a build whose event was lost', { runId, status });
        for (const runId of report.started) log.info('started a run left Queued', { runId });
        for (const { runId, reason } of report.deferred) log.warn('run left for the next pass', { runId, reason });
        log.info('reconciled', { checked: report.checked, recorded: report.recorded.length, started: report.started.length, deferred: report.deferred.length });
        return report;
      }),
  );
}

export const handler = createReconcilerHandler(awsCascade);
