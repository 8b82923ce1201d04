// The registry-events function: Amazon ECR's "ECR Image Action" events from an EventBridge rule,
// the app account's own pushes and those a base account forwards to this account's bus
// (infra/base-registry-pull-role.yml). EventBridge vouches for the event, so there is no
// signature; the events are deduplicated and queued like a webhook's.
//
//   serverless invoke local -f registryEvents -p test/fixtures/events/registryEvents.json
import middy from '@middy/core';
import { logger, type Logger } from '../lib/aws/logger';
import { functionHandler, logContext } from '../lib/aws/middleware';
import { awsCascade, cascadeOf, type CascadeSource } from '../lib/aws/wiring';
import type { IntakeResult } from '../lib/domain/event-intake';
import { ValidationError } from '../lib/domain/errors';
import { normalizeEcrEvent } from '../lib/events';

/** The route deliveries are remembered under: EventBridge's event id is unique per event. */
export const EVENTBRIDGE_ROUTE = 'eventbridge';

export function createRegistryEventsHandler(cascade: CascadeSource, log: Logger = logger) {
  return functionHandler<unknown, IntakeResult>(
    middy<unknown, IntakeResult>()
      .use(logContext(log))
      .handler(async (event) => {
        // EventBridge's event id is the delivery id of the image event made from it.
        const id = (event as { id?: unknown } | null)?.id;
        if (typeof id === 'string') log.appendKeys({ deliveryId: id });
        let normalized;
        try {
          normalized = normalizeEcrEvent(event);
        } catch (error) {
          // Retrying an event that cannot be read would fail the same way: say why and drop it.
          if (!(error instanceof ValidationError)) throw error;
          log.warn('registry event ignored', { reason: error.message });
          return { accepted: 0, ignored: [{ reason: error.message }] };
        }
        // A failure to queue is thrown, so that Lambda retries the asynchronous invocation.
        const result = await cascadeOf(cascade).intake.accept(EVENTBRIDGE_ROUTE, normalized);
        log.info('registry event', { ...result });
        return result;
      }),
  );
}

export const handler = createRegistryEventsHandler(awsCascade);
