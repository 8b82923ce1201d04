// The reconciler function, on a schedule: heals runs whose CodeBuild state change event was lost
// (BatchGetBuilds, at most 100 builds a call) and starts runs a crash left Queued without a build.
//
//   serverless invoke local -f reconciler -p test/fixtures/events/reconciler.json
import middy from '@middy/core';
import { awsCascade, lazy } from '../lib/aws/wiring';
import type { Cascade } from '../lib/domain/cascade';
import type { ReconcileReport } from '../lib/domain/run-service';

export function createReconcilerHandler(cascade: Cascade, options: { queuedGraceMs?: number } = {}) {
  return async (): Promise<ReconcileReport> => {
    const report = await cascade.runs.reconcile(options);
    console.log(JSON.stringify({ level: 'info', message: 'reconciled', ...report }));
    return report;
  };
}

const reconciler = lazy(() => createReconcilerHandler(awsCascade()));

export const handler = middy<unknown, ReconcileReport>().handler(() => reconciler()());
