// Alerts: where the tenant's alerts go and what they watch (the operator API's alert subscriptions), and each one's
// delivery log — parked deliveries included, so nothing that could not be delivered goes unseen.
import {
  Badge,
  Button,
  Caption1,
  Card,
  CardHeader,
  Checkbox,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  makeStyles,
  SpinButton,
  Subtitle2,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import { ALERT_KINDS, type Alert, type AlertKind } from '../api.js';
import { useAction, useLoad } from '../hooks.js';
import { useSession } from '../session.js';
import { ErrorBar, Loading, PageHeader, when } from '../ui.js';
import { errorTitle } from '../wording.js';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalS, maxWidth: '640px' },
  kinds: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM },
});

const KIND_NAMES: Readonly<Record<AlertKind, string>> = {
  licenseErrors: 'License errors appeared or grew',
  seatUsage: 'Seat usage above a threshold',
  waitingPrincipals: 'Principals waiting for a seat',
  subscriptionState: 'Subscription expired, disabled or deleted',
  groupProcessing: 'Group processing failed or stuck',
};

/** One notification in a few words: its kind and the figure that set it off. */
function describe(data: { readonly kind: string } & Record<string, unknown>): string {
  const name = KIND_NAMES[data.kind as AlertKind] ?? data.kind;
  switch (data.kind) {
    case 'licenseErrors':
      return `${name}: ${String(data.membersInError)} in ${errorTitle(String(data.errorType))}`;
    case 'seatUsage':
      return `${name}: ${String(data.percent)} % of ${String(data.skuPartNumber)}`;
    case 'waitingPrincipals':
      return `${name}: ${String(data.waitingPrincipals)} for ${String(data.skuPartNumber)}`;
    case 'subscriptionState':
      return `${name}: ${String(data.skuPartNumber)} ${String(data.state)}`;
    default:
      return `${name}: ${String(data.condition ?? '')}`;
  }
}

export function AlertsPage() {
  const styles = useStyles();
  const { operator, tenant } = useSession();
  const alerts = useLoad(() => operator.alerts(tenant.id), [operator, tenant.id]);
  const [created, setCreated] = useState<Alert>();
  return (
    <div className={styles.stack}>
      <PageHeader
        title="Alerts"
        subtitle="Signed webhook notifications when licensing needs attention, retried until delivered or parked."
      />
      <NewAlert
        onCreated={(alert) => {
          setCreated(alert);
          alerts.reload();
        }}
      />
      {created?.secret ? (
        <MessageBar intent="success">
          <MessageBarBody>
            Created. Its signing secret, shown this once (deliveries carry X-Alert-Signature: sha256=HMAC of
            the body): <code>{created.secret}</code>
          </MessageBarBody>
        </MessageBar>
      ) : null}
      <ErrorBar error={alerts.error} />
      {alerts.data ? (
        alerts.data.value.length === 0 ? (
          <Text>No alerts yet.</Text>
        ) : (
          alerts.data.value.map((alert) => (
            <AlertCard key={alert.id} alert={alert} onDeleted={alerts.reload} />
          ))
        )
      ) : (
        <Loading />
      )}
    </div>
  );
}

function NewAlert(props: { onCreated(alert: Alert): void }) {
  const styles = useStyles();
  const { operator, tenant } = useSession();
  const [url, setUrl] = useState('');
  const [kinds, setKinds] = useState<ReadonlySet<AlertKind>>(new Set(ALERT_KINDS));
  const [percent, setPercent] = useState(90);
  const action = useAction();
  const create = () =>
    action.run(async () =>
      props.onCreated(
        await operator.createAlert(tenant.id, {
          kinds: [...kinds],
          notificationUrl: url,
          seatUsagePercent: percent,
        }),
      ),
    );
  return (
    <Card>
      <CardHeader header={<Subtitle2 as="h2">New alert</Subtitle2>} />
      <div className={styles.form}>
        <ErrorBar error={action.error} title="The alert was refused" />
        <Field
          label="Notification URL"
          hint="https (or http to 127.0.0.1/localhost); it must echo ?validationToken=… as text/plain within 10 s"
        >
          <Input value={url} onChange={(_e, data) => setUrl(data.value)} />
        </Field>
        <fieldset className={styles.kinds}>
          <legend>Alert on</legend>
          {ALERT_KINDS.map((kind) => (
            <Checkbox
              key={kind}
              label={KIND_NAMES[kind]}
              checked={kinds.has(kind)}
              onChange={(_e, data) => {
                const next = new Set(kinds);
                if (data.checked) next.add(kind);
                else next.delete(kind);
                setKinds(next);
              }}
            />
          ))}
        </fieldset>
        <Field label="Seat usage threshold (%)">
          <SpinButton
            value={percent}
            min={1}
            max={100}
            onChange={(_e, data) => {
              const value = data.value ?? Number.parseInt(data.displayValue ?? '', 10);
              if (Number.isFinite(value)) setPercent(Math.min(100, Math.max(1, value as number)));
            }}
          />
        </Field>
        <div>
          <Button
            appearance="primary"
            disabled={action.busy || url === '' || kinds.size === 0}
            onClick={() => void create()}
          >
            Create alert
          </Button>
        </div>
      </div>
    </Card>
  );
}

function AlertCard(props: { alert: Alert; onDeleted(): void }) {
  const { operator, tenant } = useSession();
  const deliveries = useLoad(
    () => operator.deliveries(tenant.id, props.alert.id),
    [operator, tenant.id, props.alert.id],
    10_000,
  );
  const action = useAction();
  const newestFirst = [...(deliveries.data?.value ?? [])].reverse().slice(0, 50);
  return (
    <Card>
      <CardHeader
        header={<Subtitle2 as="h2">{props.alert.notificationUrl}</Subtitle2>}
        description={
          <Caption1>
            {props.alert.kinds.map((k) => KIND_NAMES[k]).join(' · ')} · since{' '}
            {when(props.alert.createdDateTime)}
          </Caption1>
        }
        action={
          <Button
            aria-label={`Delete the alert to ${props.alert.notificationUrl}`}
            disabled={action.busy}
            onClick={() =>
              void action.run(async () => {
                await operator.deleteAlert(tenant.id, props.alert.id);
                props.onDeleted();
              })
            }
          >
            Delete
          </Button>
        }
      />
      <ErrorBar error={action.error ?? deliveries.error} />
      {newestFirst.length === 0 ? (
        <Caption1>Nothing delivered yet.</Caption1>
      ) : (
        <Table aria-label={`Deliveries to ${props.alert.notificationUrl}`} size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Decided</TableHeaderCell>
              <TableHeaderCell>What</TableHeaderCell>
              <TableHeaderCell>Status</TableHeaderCell>
              <TableHeaderCell>Attempts</TableHeaderCell>
              <TableHeaderCell>Last answer</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {newestFirst.map((delivery) => (
              <TableRow key={delivery.id}>
                <TableCell>{when(delivery.createdDateTime)}</TableCell>
                <TableCell>{delivery.value.map((n) => describe(n.resourceData)).join('; ')}</TableCell>
                <TableCell>
                  <Badge
                    appearance="tint"
                    color={
                      delivery.status === 'delivered'
                        ? 'success'
                        : delivery.status === 'parked'
                          ? 'danger'
                          : 'informative'
                    }
                  >
                    {delivery.status}
                  </Badge>
                </TableCell>
                <TableCell>{delivery.attempts}</TableCell>
                <TableCell>
                  {delivery.lastError ?? (delivery.lastStatus === null ? '—' : `HTTP ${delivery.lastStatus}`)}
                  {delivery.nextAttemptDateTime ? ` · next try ${when(delivery.nextAttemptDateTime)}` : ''}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </Card>
  );
}
