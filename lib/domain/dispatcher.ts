// The dispatcher: one inbound event in, the tasks it concerns decided (lib/domain/decisions.ts),
// and their builds started through the exactly-once rules of lib/domain/coordination.
import type { Candidate, Coordinator, ImageChange } from './coordination/coordinator';
import { branchOf, decideGitCommit, decideImageUpdate } from './decisions';
import { gitHost, gitUrlParts, normalizeGitUrl } from './git-url';
import type { DependencyStore, DigestResolver, TaskStore } from './ports';
import type { RunService } from './run-service';
import type { NotificationService } from './notifications/notification-service';
import { settleEach, throwFirstFailure } from './concurrency';
import type { GitEvent, GitRepositoryPaths, ImageDeleteEvent, ImageEvent, ImageTagEvent, InboundEvent, RegistryCredential, Run, Task } from './types';

export interface DispatchReport {
  event: string;
  started: Array<{ task: string; runId: string; reason: string }>;
  skipped: Array<{ task?: string; reason: string }>;
}

export interface DispatcherDeps {
  tasks: TaskStore;
  dependencies: DependencyStore;
  runs: RunService;
  coordination: Coordinator;
  digests: DigestResolver;
  log?: (entry: DispatchReport) => void;
  /** Told of a base tag deleted that tasks are built from; it queues the notifications and never throws. */
  notify?: Pick<NotificationService, 'baseDeleted'>;
}

/** How long a git commit is remembered per task, so a redelivered push starts nothing. */
const GIT_DEDUPE_SECONDS = 7 * 24 * 3600;

/** How many dependents of one event are worked on at once. */
const FAN_OUT_CONCURRENCY = 16;

export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** `forTask`: a deferred event seen again, by that dependent only. */
  async dispatch(event: InboundEvent, forTask?: string): Promise<DispatchReport> {
    let report: DispatchReport;
    switch (event.kind) {
      case 'image':
        report = await this.onImage(event, forTask);
        break;
      case 'image-tag':
        report = await this.onImageTag(event);
        break;
      case 'image-delete':
        report = await this.onImageDelete(event);
        break;
      case 'git':
        report = await this.onGit(event);
        break;
    }
    this.deps.log?.(report);
    return report;
  }

  private async onImage(event: ImageEvent, forTask?: string): Promise<DispatchReport> {
    const base = `${event.registry}/${event.repository}:${event.tag}`;
    const report: DispatchReport = { event: `${base}@${event.digest} (${event.source} ${event.deliveryId})`, started: [], skipped: [] };
    const skip = (task: string | undefined, reason: string) => report.skipped.push({ ...(task !== undefined && { task }), reason });
    // Independent reads, at once: the latency of a trigger is the number of round trips in a row.
    const [observed, allDependents] = await Promise.all([
      this.deps.coordination.observe(event, forTask),
      this.deps.dependencies.listDependents(event.registry, event.repository, event.tag),
    ]);
    if (observed.kind === 'late') {
      skip(undefined, `a newer digest of ${base} was already seen; ${event.digest} arrived late`);
      return report;
    }
    if (observed.kind === 'held') {
      skip(undefined, `${observed.runId} of ${observed.taskName} is pushing ${base}: the event waits for its result, to tell cascade's own push from another`);
      return report;
    }
    const { change } = observed;

    const dependents = allDependents.filter((dep) => forTask === undefined || dep.taskName === forTask);
    if (dependents.length === 0) skip(undefined, `no task depends on ${base}`);
    const tasks = await this.deps.tasks.getMany(dependents.map((dep) => dep.taskName));
    const candidates: Candidate[] = [];
    for (const dep of dependents) {
      const task = tasks.get(dep.taskName);
      const decision = decideImageUpdate(task, dep, event);
      if (!task || !decision.build) skip(dep.taskName, decision.reason);
      else if (change.origin.via.includes(task.name)) {
        skip(task.name, `${base}@${event.digest} was pushed by a build that ${task.name} led to (${[...change.origin.via, task.name].join(' → ')}): building ${task.name} again would loop`);
      } else candidates.push({ dep, task, reason: decision.reason });
    }

    const ready = await change.holdForUpstream(candidates, skip);
    // Every run is opened before any starts: a build that ends at once and pushes must find all
    // of this change's runs, so that what builds on several of them waits for them all.
    const opened = await this.openRuns(change, ready, skip);
    await change.holdBehindSiblings();
    const building = opened.filter((o) => o.building).map((o) => o.run);
    const toAdmit = opened.filter((o) => !o.building);
    await this.deps.runs.startMany(building);
    for (const { run, reason } of opened.filter((o) => o.building)) report.started.push({ task: run.taskName as string, runId: run.id, reason });
    // Those that found their task building wait behind it; a failure is reported after every run
    // was tried, so that the queue tries the event again (a run not admitted is the reconciler's).
    const admitted = await settleEach(toAdmit, FAN_OUT_CONCURRENCY, ({ run }) => this.deps.runs.admit(run));
    admitted.forEach((outcome, i) => {
      const { run, reason } = toAdmit[i]!;
      if (outcome.status === 'rejected') return;
      const admission = outcome.value;
      report.started.push({
        task: run.taskName as string,
        runId: run.id,
        reason: admission.admitted === 'build' ? reason : `${reason}; it builds after ${admission.behind}${admission.superseded ? `, in place of ${admission.superseded}` : ''}`,
      });
    });
    throwFirstFailure(admitted);
    return report;
  }

  /** The runs of the candidates, opened with their claims under run ids reserved in one request: those that won. */
  private async openRuns(change: ImageChange, ready: Candidate[], skip: (task: string, reason: string) => void): Promise<Array<{ run: Run; reason: string; building: boolean }>> {
    if (ready.length === 0) return [];
    const { event, origin, pushedByRun } = change;
    const base = `${event.registry}/${event.repository}:${event.tag}`;
    const ids = await this.deps.runs.reserveIds(ready.length);
    const opened = await this.deps.runs.openTaskRuns(
      ready.map((candidate, i) => ({
        task: candidate.task,
        request: {
          trigger: 'Image Update' as const,
          cause: {
            kind: 'image-update' as const,
            base,
            oldDigest: candidate.dep.digest,
            newDigest: event.digest,
            source: event.source,
            deliveryId: event.deliveryId,
            occurredAt: event.occurredAt,
            ...(pushedByRun !== undefined && { pushedByRun }),
          },
          origin,
        },
        reserved: ids[i]!,
        ...change.claimOf(candidate),
      })),
    );
    const won: Array<{ run: Run; reason: string; building: boolean }> = [];
    opened.forEach(({ run, outcome }, i) => {
      const { task, reason } = ready[i]!;
      if (outcome.opened) won.push({ run, reason, building: outcome.building });
      else if (outcome.lost === 'claim') skip(task.name, `a build of ${task.name} for ${base}@${event.digest} was already started`);
      else skip(task.name, `${task.name} was already rebuilt for this change (${origin.root})`);
    });
    return won;
  }

  /**
   * The sender named the tag but not its digest. Only a tag some task depends on is looked up,
   * so a payload can never make cascade contact a host it does not already use.
   */
  private async onImageTag(event: ImageTagEvent): Promise<DispatchReport> {
    const base = `${event.registry}/${event.repository}:${event.tag}`;
    const dependents = await this.deps.dependencies.listDependents(event.registry, event.repository, event.tag);
    if (dependents.length === 0) {
      return { event: `${base} (${event.source} ${event.deliveryId})`, started: [], skipped: [{ reason: `no task depends on ${base}` }] };
    }
    const tasks = await this.deps.tasks.getMany(dependents.map((dep) => dep.taskName));
    const credentials: RegistryCredential[] = dependents.flatMap((dep) => tasks.get(dep.taskName)?.credentials.filter((c) => c.loginServer === event.registry) ?? []);
    // A failure to reach the registry is thrown: the queue retries the message.
    const digest = await this.deps.digests.resolve(event, credentials);
    return this.onImage({ ...event, kind: 'image', digest });
  }

  private async onImageDelete(event: ImageDeleteEvent): Promise<DispatchReport> {
    const base = `${event.registry}/${event.repository}:${event.tag}`;
    const marked = await this.deps.dependencies.markTagGone(event.registry, event.repository, event.tag, event.occurredAt);
    if (marked > 0) await this.deps.notify?.baseDeleted(event);
    return {
      event: `delete of ${base} (${event.source} ${event.deliveryId})`,
      started: [],
      skipped: [{ reason: marked ? `${base} was deleted; ${marked} dependent task(s) marked` : `no task depends on ${base}` }],
    };
  }

  private async onGit(event: GitEvent): Promise<DispatchReport> {
    const host = event.repositoryPaths?.host;
    const named = host === undefined ? event.repoUrl : `${event.repoUrl} on ${host}`;
    const report: DispatchReport = { event: `${named} ${event.ref}@${event.commit} (${event.source} ${event.deliveryId})`, started: [], skipped: [] };
    const branch = branchOf(event.ref);
    if (!branch) {
      report.skipped.push({ reason: `${event.ref} is not a branch` });
      return report;
    }
    const repository = event.repositoryPaths ? `${host ?? '*'}/${event.repositoryPaths.paths[0]}` : normalizeGitUrl(event.repoUrl);
    const tasks = event.repositoryPaths
      ? await this.tasksOnPaths(event.repositoryPaths, branch, (task, reason) => report.skipped.push({ task, reason }))
      : await this.deps.tasks.listByGitContext(repository, branch);
    if (tasks.length === 0) report.skipped.push({ reason: `no task builds ${named} branch ${branch}` });
    for (const task of tasks) {
      const decision = decideGitCommit(task, event);
      if (!decision.build) {
        report.skipped.push({ task: task.name, reason: decision.reason });
        continue;
      }
      // The commit is marked built for the task with the run, in one step: a redelivery finds it, a crash leaves neither.
      const run = await this.deps.runs.createTaskRunOnce(
        task,
        {
          trigger: 'Git Commit',
          cause: { kind: 'git-commit', repoUrl: event.repoUrl, ref: event.ref, commit: event.commit, source: event.source, deliveryId: event.deliveryId },
          commit: event.commit,
          branch,
          origin: { root: `git:${repository}@${event.commit}`, via: [] },
        },
        { key: `git#${task.name}#${event.commit}`, ttlSeconds: GIT_DEDUPE_SECONDS },
      );
      if (!run) {
        report.skipped.push({ task: task.name, reason: `a build of ${task.name} for commit ${event.commit} was already started` });
        continue;
      }
      await this.deps.runs.startOrQueue(run);
      report.started.push({ task: task.name, runId: run.id, reason: decision.reason });
    }
    return report;
  }

  /** The tasks of a repository its sender named by path: only those on its server, when the webhook says which. */
  private async tasksOnPaths({ host, paths }: GitRepositoryPaths, branch: string, skip: (task: string, reason: string) => void): Promise<Task[]> {
    const tasks = await this.deps.tasks.listByGitPath(paths, branch);
    if (host === undefined) return tasks;
    return tasks.filter((task) => {
      const url = task.context.kind === 'git' ? task.context.url : '';
      const onHost = gitUrlParts(normalizeGitUrl(url))?.host === gitHost(host);
      if (!onHost) skip(task.name, `${url} is not on ${host}, the server the webhook speaks for`);
      return onHost;
    });
  }
}
