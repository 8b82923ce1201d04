// /console/webhooks: each webhook's provider, URL and secrets, and its last deliveries: what each
// carried, what was ignored and why, and what the dispatcher started or skipped for it
// (GET /api/webhooks/{name}/deliveries).
import type { WebhookView } from '../../../cli/format';
import type { WebhookDeliveryView } from '../../../domain/webhook-delivery-log';
import { consoleApi } from '../console-api';
import { ErrorNote, Loading, Time } from '../components';
import { Link, paths } from '../router';
import { usePolled } from '../use-polled';

const DELIVERIES_SHOWN = 30;
const DELIVERIES_REFRESH_MS = 2000;

export function WebhooksView() {
  const webhooks = usePolled(() => consoleApi.listWebhooks(), []);
  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">Webhooks</h1>
      <ErrorNote error={webhooks.error} what="load the webhooks" />
      {webhooks.data === undefined ? (
        !webhooks.error && <Loading what="webhooks" />
      ) : webhooks.data.length === 0 ? (
        <p class="empty">
          No webhooks yet: make one with <code>cascade webhook create --name NAME --provider PROVIDER</code>.
        </p>
      ) : (
        webhooks.data.map((hook) => <WebhookCard key={hook.name} hook={hook} />)
      )}
    </section>
  );
}

function WebhookCard({ hook }: { hook: WebhookView }) {
  const deliveries = usePolled(() => consoleApi.webhookDeliveries(hook.name, DELIVERIES_SHOWN), [hook.name], () => DELIVERIES_REFRESH_MS);
  const secrets = hook.secrets ?? 1;
  return (
    <article class="card" aria-labelledby={`webhook-${hook.name}`} data-webhook={hook.name}>
      <h2 id={`webhook-${hook.name}`}>{hook.name}</h2>
      <dl class="key-values">
        <div class="key-value">
          <dt>Provider</dt>
          <dd>{hook.provider}</dd>
        </div>
        {hook.loginServer && (
          <div class="key-value">
            <dt>Login server</dt>
            <dd>
              <code>{hook.loginServer}</code>
            </dd>
          </div>
        )}
        <div class="key-value">
          <dt>URL</dt>
          <dd class="wrap">
            <code>{hook.url}</code>
          </dd>
        </div>
        <div class="key-value">
          <dt>Secrets</dt>
          <dd>{secrets > 1 ? `${secrets} (a rotation is under way: the old and the new secret are both accepted)` : String(secrets)}</dd>
        </div>
        <div class="key-value">
          <dt>Created</dt>
          <dd>
            <Time at={hook.createdAt} />
          </dd>
        </div>
      </dl>
      <h3>Last deliveries</h3>
      <ErrorNote error={deliveries.error} what="load its deliveries" />
      {deliveries.data === undefined ? (
        !deliveries.error && <Loading what="deliveries" />
      ) : deliveries.data.length === 0 ? (
        <p class="empty">None received in the last three days.</p>
      ) : (
        <ol class="deliveries">
          {groupIgnored(deliveries.data).map((group) =>
            'ignoredOnly' in group ? <IgnoredDeliveries key={group.ignoredOnly[group.ignoredOnly.length - 1]?.id} deliveries={group.ignoredOnly} /> : <DeliveryItem key={group.id} delivery={group} />,
          )}
        </ol>
      )}
    </article>
  );
}

/** Runs of deliveries that carried nothing to act on (pulls, blob pushes) folded into one line each. */
export function groupIgnored(deliveries: WebhookDeliveryView[]): Array<WebhookDeliveryView | { ignoredOnly: WebhookDeliveryView[] }> {
  const groups: Array<WebhookDeliveryView | { ignoredOnly: WebhookDeliveryView[] }> = [];
  for (const delivery of deliveries) {
    const last = groups[groups.length - 1];
    if (delivery.events.length > 0) groups.push(delivery);
    else if (last && 'ignoredOnly' in last) last.ignoredOnly.push(delivery);
    else groups.push({ ignoredOnly: [delivery] });
  }
  return groups;
}

function IgnoredDeliveries({ deliveries }: { deliveries: WebhookDeliveryView[] }) {
  const newest = deliveries[0];
  const oldest = deliveries[deliveries.length - 1];
  return (
    <li class="delivery ignored-deliveries">
      <details>
        <summary>
          <Time at={newest?.receivedAt} />
          {deliveries.length > 1 && (
            <>
              {' '}
              back to <Time at={oldest?.receivedAt} />
            </>
          )}
          : {deliveries.length === 1 ? '1 delivery' : `${deliveries.length} deliveries`} with nothing cascade acts on
        </summary>
        <ul>
          {deliveries.flatMap((delivery) =>
            delivery.ignored.map((reason, i) => (
              <li key={`${delivery.id}-${i}`} class="ignored">
                <Time at={delivery.receivedAt} /> ignored: {reason}
              </li>
            )),
          )}
        </ul>
      </details>
    </li>
  );
}

function DeliveryItem({ delivery }: { delivery: WebhookDeliveryView }) {
  return (
    <li class="delivery" data-delivery={delivery.id}>
      <p>
        <Time at={delivery.receivedAt} />{' '}
        {delivery.events.length === 0 ? 'carried no event cascade acts on' : `carried ${delivery.events.length} event${delivery.events.length === 1 ? '' : 's'}`}
      </p>
      <ul>
        {delivery.events.map((event) => {
          const outcome = delivery.outcomes[event.deliveryId];
          return (
            <li key={event.deliveryId}>
              <code>{event.subject}</code> <span class="muted">(delivery {event.deliveryId})</span>
              {!outcome ? (
                <span class="muted"> — queued; not handled yet</span>
              ) : (
                <>
                  {outcome.started.map((s) => (
                    <span key={s.runId} class="started">
                      {' '}
                      — started <Link href={paths.run(s.runId)}>{s.runId}</Link> for <Link href={paths.task(s.task)}>{s.task}</Link>
                    </span>
                  ))}
                  {outcome.skipped.map((s, i) => (
                    <span key={i} class="ignored">
                      {' '}
                      — {s.task ? `${s.task}: ` : ''}
                      {s.reason}
                    </span>
                  ))}
                  {outcome.started.length === 0 && outcome.skipped.length === 0 && <span class="ignored"> — nothing depends on it</span>}
                </>
              )}
            </li>
          );
        })}
        {delivery.ignored.map((reason, i) => (
          <li key={`ignored-${i}`} class="ignored">
            ignored: {reason}
          </li>
        ))}
      </ul>
    </li>
  );
}
