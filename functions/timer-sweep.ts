// Every five minutes: hard-delete users past the 30-day restore window, settle abandoned seat reservations.
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { appContext } from '../src/application/context.js';
import { sweep } from '../src/application/sweep.js';

export async function sweepExpiredWork(_timer: Timer, context: InvocationContext): Promise<void> {
  const result = await sweep(await appContext());
  if (result.hardDeleted > 0 || result.reservationsSettled > 0) {
    context.log(
      `Sweep: ${result.hardDeleted} users hard-deleted, ${result.reservationsSettled} reservations settled`,
    );
  }
}

app.timer('sweepExpiredWork', { schedule: '0 */5 * * * *', handler: sweepExpiredWork });
