// Runs that lost their way: after a restart of the local stack (nothing is building any more),
// and on AWS, runs whose build state change event never came or whose start a crash or a lost
// answer left unfinished. Each is healed once, through the run lifecycle and the coordination
// rules like any other run.
import type { Coordinator } from './coordination/coordinator';
import { RetryableError } from './errors';
import type { Builder, Clock, RunStore } from './ports';
import type { RunService } from './run-service';
import type { Run } from './types';

/** A Queued run younger than this is still on its way to a builder, not stuck. */
export const QUEUED_GRACE_MS = 10 * 60 * 1000;

/** What one pass of the reconciler found and did. */
export interface ReconcileReport {
  /** Unfinished runs looked at. */
  checked: number;
  /** Runs whose finished build had not been recorded: recorded now. */
  recorded: Array<{ runId: string; status: Run['status'] }>;
  /** Runs left Queued without a build (a crash before the start): started now. */
  started: string[];
  /** Runs that could not be healed this time; the next pass tries again. */
  deferred: Array<{ runId: string; reason: string }>;
}

export interface RecoveryDeps {
  runs: Pick<RunStore, 'listUnfinished'>;
  builder: Builder;
  clock: Clock;
  lifecycle: RunService;
  coordination: Coordinator;
}

export class Recovery {
  constructor(private readonly deps: RecoveryDeps) {}

  /**
   * After a restart of the local stack nothing is building: Queued runs are started again and
   * Running ones, whose builder process died with the old stack, are marked Error with the reason.
   */
  async recoverAfterRestart(): Promise<{ restarted: string[]; failed: string[] }> {
    const restarted: string[] = [];
    const failed: string[] = [];
    for (const run of await this.deps.runs.listUnfinished()) {
      if (run.status === 'Queued' && !run.buildId) {
        if ((await this.resumeQueued(run)) === 'started') restarted.push(run.id);
      } else {
        await this.deps.lifecycle.abandon(run, 'the build was interrupted by a restart of cascade');
        failed.push(run.id);
      }
    }
    return { restarted, failed };
  }

  /**
   * Heals runs whose progress report was lost: a Running run whose build has finished gets that
   * build's result (the state change event never came); a run whose build the builder has no
   * record of is marked Error; a run Queued for longer than `queuedGraceMs` without a build
   * (a crash between creating it and starting it) is started, once, by the idempotent start.
   */
  async reconcile(options: { queuedGraceMs?: number } = {}): Promise<ReconcileReport> {
    const grace = options.queuedGraceMs ?? QUEUED_GRACE_MS;
    const now = this.deps.clock.now().getTime();
    const unfinished = await this.deps.runs.listUnfinished();
    const report: ReconcileReport = { checked: unfinished.length, recorded: [], started: [], deferred: [] };

    for (const run of unfinished.filter((r) => r.status === 'Queued' && !r.buildId)) {
      if (now - Date.parse(run.createdAt) < grace) continue;
      try {
        const outcome = await this.resumeQueued(run);
        if (outcome === 'started') report.started.push(run.id);
        else if (outcome !== 'waiting' && outcome !== 'Queued') report.recorded.push({ runId: run.id, status: outcome });
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        report.deferred.push({ runId: run.id, reason: error.message });
      }
    }

    const building = new Map(unfinished.filter((r) => r.buildId).map((r) => [r.buildId as string, r]));
    if (building.size === 0 || !this.deps.builder.describe) return report;
    for (const state of await this.deps.builder.describe([...building.keys()])) {
      const run = building.get(state.buildId);
      if (!run || state.state === 'running') continue;
      // The build is matched to its run by build id: what the build says its run is does not decide.
      const finished =
        state.state === 'finished'
          ? await this.deps.lifecycle.recordResult({ ...state.result, runId: run.id })
          : await this.deps.lifecycle.abandon(run, `${state.reason}; its result is unknown`);
      report.recorded.push({ runId: run.id, status: finished.status });
    }
    return report;
  }

  /**
   * A Queued run found without a build, after a crash or a restart: started once, unless it is
   * an Image Update run whose place is to wait behind another. Says what became of it.
   */
  private async resumeQueued(run: Run): Promise<'started' | 'waiting' | Run['status']> {
    const { lifecycle, coordination } = this.deps;
    if (run.trigger === 'Image Update' && run.taskName) {
      const slots = await coordination.slotsOf(run.taskName);
      if (slots.waiting === run.id) return 'waiting';
      if (slots.building !== run.id) {
        // Not in its task's places at all: the crash came before it was admitted.
        if ((await lifecycle.admit(run)).admitted === 'wait') return 'waiting';
        const now = await lifecycle.get(run.id);
        return now.status === 'Running' ? 'started' : now.status;
      }
    }
    // An earlier start may have reached the builder: a retry looks for that build first.
    const started = await lifecycle.start(run.id, { retry: true });
    return started.status === 'Running' ? 'started' : started.status;
  }
}
