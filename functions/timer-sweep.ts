// Every five minutes: relay outbox rows left by requests that died, hard-delete users past the 30-day restore
// window, settle abandoned seat reservations, run an alert pass per tenant.
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { appContext } from '../src/application/context.js';
import { sweep } from '../src/application/sweep.js';

export async function sweepExpiredWork(_timer: Timer, context: InvocationContext): Promise<void> {
  const result = await sweep(await appContext());
  if (
    result.outboxRelayed > 0 ||
    result.hardDeleted > 0 ||
    result.reservationsSettled > 0 ||
    result.alertsDecided > 0 ||
    result.alertDeliveriesResent > 0
  ) {
    context.log(
      `Sweep: ${result.outboxRelayed} outbox rows relayed, ${result.hardDeleted} users hard-deleted, ` +
        `${result.reservationsSettled} reservations settled, ${result.alertsDecided} alert deliveries decided, ` +
        `${result.alertDeliveriesResent} resent`,
    );
  }
}

app.timer('sweepExpiredWork', { schedule: '0 */5 * * * *', handler: sweepExpiredWork });
