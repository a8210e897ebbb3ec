// Alerts judged by the simulator: a receiver subscribed to the tenant's licenseErrors alerts before churn, and
// after it, every license error the tenant's licensed groups show (by group and error type) must have been
// announced with at least that many members — zero missed. Deliveries are at least once and the receiver keeps
// one per delivery id; its signature is checked with the secret the subscription returned.
import type { Client } from '@microsoft/microsoft-graph-client';
import { licenseProcessingDetailsSchema } from '../contract/graph.js';
import { type AlertReceiver, startAlertReceiver } from './alert-receiver.js';
import type { OperatorClient } from './service.js';
import type { SimState } from './state.js';

export interface AlertCheck {
  /** Error conditions (group × error type) the tenant shows at the end. */
  readonly conditions: number;
  /** Those never announced (or announced with fewer members than it has): should be none. */
  readonly missed: readonly string[];
  readonly notifications: number;
  readonly deliveries: number;
  /** Deliveries whose signature did not verify: should be none. */
  readonly badSignatures: number;
  /** Deliveries the service parked: should be none with a receiver that accepts everything. */
  readonly parked: number;
}

export interface AlertWatch {
  readonly receiver: AlertReceiver;
  /** Waits (up to `timeoutMs`: the service debounces its passes) until nothing is missed, and says what was. */
  check(graph: Client, state: SimState, timeoutMs?: number): Promise<AlertCheck>;
  close(): Promise<void>;
}

export async function watchAlerts(operator: OperatorClient, tenantId: string): Promise<AlertWatch> {
  const receiver = await startAlertReceiver();
  const alert = await operator.createAlert(tenantId, ['licenseErrors'], receiver.url);
  receiver.secret = alert.secret;

  const missedNow = async (graph: Client, state: SimState) => {
    const alerted = new Map<string, number>();
    for (const n of receiver.notifications()) {
      const data = n.resourceData;
      const key = `${String(data.groupId)} ${String(data.errorType)}`;
      alerted.set(key, Math.max(alerted.get(key) ?? 0, Number(data.membersInError ?? 0)));
    }
    const missed: string[] = [];
    let conditions = 0;
    for (const [groupId, group] of Object.entries(state.groups)) {
      if (group.licenses.length === 0) continue;
      const details = licenseProcessingDetailsSchema.parse(
        await graph.api(`/groups/${groupId}/licenseProcessingDetails`).get(),
      );
      for (const [errorType, count] of Object.entries(details.errorsByType)) {
        if (count <= 0) continue;
        conditions++;
        const announced = alerted.get(`${groupId} ${errorType}`) ?? 0;
        if (announced < count)
          missed.push(`${group.displayName}: ${count} in ${errorType}, ${announced} announced`);
      }
    }
    return { conditions, missed };
  };

  return {
    receiver,
    check: async (graph, state, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      let result = await missedNow(graph, state);
      while (result.missed.length > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        result = await missedNow(graph, state);
      }
      return {
        ...result,
        notifications: receiver.notifications().length,
        deliveries: receiver.deliveries.length,
        badSignatures: receiver.attempts.filter((a) => !a.signatureValid).length,
        parked: (await operator.alertDeliveries(tenantId, alert.id, 'parked')).length,
      };
    },
    close: async () => {
      await operator.deleteAlert(tenantId, alert.id).catch(() => undefined);
      await receiver.close();
    },
  };
}
