// /console/runs/<id>: what `task show-run` and `cascade why` say of a run, its images, and its
// log, streamed while the build runs and kept in place when it ends. A running run can be canceled.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { WhyAnswer } from '../../../domain/explain';
import type { Run } from '../../../domain/types';
import { formatClockDuration, formatPlatform, isTerminal, runDurationMs } from '../../../cli/format';
import { consoleApi } from '../console-api';
import { Digest, ErrorNote, KeyValues, Loading, StatusBadge, Time } from '../components';
import { useFollowedRun } from '../follow-run';
import { Link, paths } from '../router';
import { usePolled } from '../use-polled';

export function RunView({ id }: { id: string }) {
  const followed = useFollowedRun(id);
  const run = followed.run;
  // The chain's statuses change as its runs end: asked again when this run's status does.
  const why = usePolled(() => consoleApi.why(id), [id, run?.status]);

  if (!run) {
    return (
      <section>
        <h1>Run {id}</h1>
        <ErrorNote error={followed.error} what={`load run ${id}`} />
        {!followed.error && <Loading what={`load run ${id}`} />}
      </section>
    );
  }
  return (
    <section aria-labelledby="run-title">
      <h1 id="run-title">
        Run {run.id} <StatusBadge status={run.status} />
      </h1>
      {!isTerminal(run) && <CancelRunButton run={run} onCanceled={followed.replaceRun} />}
      <ErrorNote error={followed.error} what="load the latest state" />
      <KeyValues
        rows={[
          ['Task', run.taskName ? <Link href={paths.task(run.taskName)}>{run.taskName}</Link> : '(quick build)'],
          ['Status', run.status],
          ['Trigger', run.trigger],
          ['Platform', formatPlatform(run.platform)],
          ['Created', <Time at={run.createdAt} />],
          ['Started', run.startedAt && <Time at={run.startedAt} />],
          ['Finished', run.finishedAt && <Time at={run.finishedAt} />],
          ['Duration', formatClockDuration(runDurationMs(run))],
          ['Commit', run.commit],
          ['Error', run.error],
        ]}
      />
      <h2>Why it ran</h2>
      <ErrorNote error={why.error} what="load the cause chain" />
      {why.data ? <CauseChain why={why.data} /> : !why.error && <Loading what="load the cause chain" />}
      <RunImages run={run} />
      <h2 id="log-title">Log</h2>
      <RunLog text={followed.log} complete={followed.complete} />
    </section>
  );
}

function CancelRunButton({ run, onCanceled }: { run: Run; onCanceled: (run: Run) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const cancel = async () => {
    setBusy(true);
    setError(undefined);
    try {
      onCanceled(await consoleApi.cancelRun(run.id));
    } catch (failure) {
      setError(failure as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="actions">
      <button type="button" class="danger" disabled={busy} onClick={() => void cancel()}>
        {busy ? 'Canceling…' : 'Cancel run'}
      </button>
      <ErrorNote error={error} what="cancel the run" />
    </div>
  );
}

/** `cascade why`: this run first, then each run whose push it builds on, back to the first event. */
function CauseChain({ why }: { why: WhyAnswer }) {
  const last = why.chain[why.chain.length - 1];
  return (
    <div class="cause-chain">
      <ol>
        {why.chain.map((link) => (
          <li key={link.runId}>
            <Link href={paths.run(link.runId)}>{link.runId}</Link>
            {link.task && (
              <>
                {' '}
                (<Link href={paths.task(link.task)}>{link.task}</Link>)
              </>
            )}{' '}
            <StatusBadge status={link.status} /> {link.trigger}: {link.because}
            {link.missing && <span class="muted"> — it builds on run {link.missing}, which is no longer kept</span>}
          </li>
        ))}
      </ol>
      {last?.firstEvent && <p class="first-event">First event: {last.firstEvent.text}</p>}
      {why.via.length > 0 && <p class="muted">Through tasks: {why.via.join(' → ')}</p>}
    </div>
  );
}

function RunImages({ run }: { run: Run }) {
  return (
    <>
      <h2>Output images</h2>
      {run.outputImages.length === 0 ? (
        <p class="empty">{isTerminal(run) ? 'None were pushed.' : 'Known when the build has pushed them.'}</p>
      ) : (
        <ul class="images">
          {run.outputImages.map((image) => (
            <li key={image.reference}>
              <code>{image.reference}</code>@<Digest digest={image.digest} full />
            </li>
          ))}
        </ul>
      )}
      {run.baseImages.length > 0 && (
        <>
          <h2>Base images</h2>
          <ul class="images">
            {run.baseImages.map((base) => {
              const ref = `${base.registry}/${base.repository}${base.tag ? `:${base.tag}` : ''}`;
              return (
                <li key={`${ref}@${base.stage}`}>
                  <Link href={paths.graph(base.tag ? ref : undefined)}>
                    <code>{ref}</code>
                  </Link>{' '}
                  @<Digest digest={base.digest} full /> <span class="muted">{base.stage}{base.pinned ? ', pinned' : ''}</span>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </>
  );
}

/** The log as it grows; follows the end unless the reader has scrolled up. */
function RunLog({ text, complete }: { text: string; complete: boolean }) {
  const box = useRef<HTMLPreElement>(null);
  const following = useRef(true);
  useEffect(() => {
    const element = box.current;
    if (element && following.current) element.scrollTop = element.scrollHeight;
  }, [text]);
  const onScroll = () => {
    const element = box.current;
    if (element) following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
  };
  return (
    <>
      <pre class="log" ref={box} tabIndex={0} aria-labelledby="log-title" onScroll={onScroll}>
        {text}
      </pre>
      <p class="muted log-state" aria-live="polite">
        {complete ? 'The run has ended; this is its whole log.' : text === '' ? 'Waiting for the build to write…' : 'Streaming while the build runs…'}
      </p>
    </>
  );
}
