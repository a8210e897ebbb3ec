// All products: per SKU Total, Assigned, Available, Expiring soon, a usage bar and who waits for a seat — and
// buying or changing licenses (the operator API's subscriptions).
import {
  Badge,
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
  Field,
  Link,
  makeStyles,
  Select,
  SpinButton,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  tokens,
} from '@fluentui/react-components';
import { useState } from 'react';
import type { Page, SubscribedSku, Waiter } from '../api.js';
import { useAction, useLoad } from '../hooks.js';
import { href } from '../route.js';
import { useSession } from '../session.js';
import { ErrorBar, Loading, PageHeader, UsageBar } from '../ui.js';
import { skuName } from '../wording.js';

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
});

export function totalOf(sku: Pick<SubscribedSku, 'prepaidUnits'>): number {
  return sku.prepaidUnits.enabled + sku.prepaidUnits.warning;
}

/** How many principals wait for a seat of the SKU (the waiting room's count, one row read). */
export function useWaitingCount(skuId: string): number | undefined {
  const { graph } = useSession();
  return useLoad(
    async () =>
      (await graph.get<Page<Waiter>>(`subscribedSkus/${skuId}/waitingPrincipals?$top=1`))['@odata.count'],
    [graph, skuId],
    10_000,
  ).data;
}

function WaitingCell(props: { skuId: string }) {
  const count = useWaitingCount(props.skuId);
  return <>{count === undefined ? '…' : count.toLocaleString()}</>;
}

/** The subscription's stage when it is not plainly active (docs/api.md, "Subscription lifecycle"). */
export function SubscriptionStatus(props: { status: SubscribedSku['capabilityStatus'] }) {
  switch (props.status) {
    case 'Warning':
      return (
        <Badge appearance="tint" color="warning">
          Expired: in its grace period
        </Badge>
      );
    case 'Suspended':
      return (
        <Badge appearance="tint" color="danger">
          Disabled: plans suspended
        </Badge>
      );
    case 'LockedOut':
      return (
        <Badge appearance="tint" color="danger">
          Deleted: licenses removed
        </Badge>
      );
    default:
      return null;
  }
}

export function ProductsPage() {
  const { graph, catalog } = useSession();
  const skus = useLoad(() => graph.get<Page<SubscribedSku>>('subscribedSkus'), [graph], 5_000);
  return (
    <>
      <PageHeader
        title="All products"
        subtitle="Licenses the organization owns, and how many are in use."
        actions={<BuyLicenses onDone={skus.reload} />}
      />
      <ErrorBar error={skus.error} />
      {skus.data ? (
        <Table aria-label="Products">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Name</TableHeaderCell>
              <TableHeaderCell>Total</TableHeaderCell>
              <TableHeaderCell>Assigned</TableHeaderCell>
              <TableHeaderCell>Available</TableHeaderCell>
              <TableHeaderCell>Expiring soon</TableHeaderCell>
              <TableHeaderCell>Usage</TableHeaderCell>
              <TableHeaderCell>Waiting for a seat</TableHeaderCell>
              <TableHeaderCell />
            </TableRow>
          </TableHeader>
          <TableBody>
            {skus.data.value.length === 0 ? (
              <TableRow>
                <TableCell colSpan={8}>No products yet: buy licenses to start.</TableCell>
              </TableRow>
            ) : null}
            {skus.data.value.map((sku) => {
              const total = totalOf(sku);
              const name = skuName(catalog, sku.skuId);
              return (
                <TableRow key={sku.skuId}>
                  <TableCell>
                    <Link href={href({ page: 'product', skuId: sku.skuId })}>{name}</Link>{' '}
                    <SubscriptionStatus status={sku.capabilityStatus} />
                  </TableCell>
                  <TableCell>{total.toLocaleString()}</TableCell>
                  <TableCell>{sku.consumedUnits.toLocaleString()}</TableCell>
                  <TableCell>{Math.max(0, total - sku.consumedUnits).toLocaleString()}</TableCell>
                  <TableCell>{sku.prepaidUnits.warning.toLocaleString()}</TableCell>
                  <TableCell>
                    <UsageBar used={sku.consumedUnits} total={total} label={`${name}: assigned of total`} />
                  </TableCell>
                  <TableCell>
                    <WaitingCell skuId={sku.skuId} />
                  </TableCell>
                  <TableCell>
                    <BuyLicenses sku={sku} onDone={skus.reload} />
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      ) : (
        <Loading />
      )}
    </>
  );
}

/** Buy licenses of a product, or (with `sku`) change how many the organization owns. */
export function BuyLicenses(props: { sku?: SubscribedSku; onDone(): void }) {
  const styles = useStyles();
  const { operator, tenant, catalog } = useSession();
  const [open, setOpen] = useState(false);
  const [skuId, setSkuId] = useState(props.sku?.skuId ?? catalog.skus[0]?.skuId ?? '');
  const [units, setUnits] = useState(props.sku ? totalOf(props.sku) - props.sku.prepaidUnits.warning : 25);
  const action = useAction();
  const save = () =>
    action.run(async () => {
      const kept = props.sku?.prepaidUnits;
      await operator.setUnits(tenant.id, skuId, {
        enabled: units,
        warning: kept?.warning ?? 0,
        suspended: kept?.suspended ?? 0,
        lockedOut: kept?.lockedOut ?? 0,
      });
      setOpen(false);
      props.onDone();
    });
  const title = props.sku ? `Change licenses of ${skuName(catalog, props.sku.skuId)}` : 'Buy licenses';
  return (
    <Dialog open={open} onOpenChange={(_e, data) => setOpen(data.open)}>
      <DialogTrigger disableButtonEnhancement>
        <Button
          appearance={props.sku ? 'secondary' : 'primary'}
          size={props.sku ? 'small' : 'medium'}
          aria-label={title}
        >
          {props.sku ? 'Change quantity' : 'Buy licenses'}
        </Button>
      </DialogTrigger>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>{title}</DialogTitle>
          <DialogContent className={styles.form}>
            <ErrorBar error={action.error} title="Couldn’t change the licenses" />
            {props.sku ? null : (
              <Field label="Product">
                <Select value={skuId} onChange={(_e, data) => setSkuId(data.value)}>
                  {catalog.skus.map((sku) => (
                    <option key={sku.skuId} value={sku.skuId}>
                      {sku.displayName}
                    </option>
                  ))}
                </Select>
              </Field>
            )}
            <Field
              label="Licenses owned (enabled)"
              hint="Units in their grace period (expiring soon) are kept as they are."
            >
              <SpinButton
                value={units}
                min={0}
                max={10_000_000}
                onChange={(_e, data) => {
                  const value = data.value ?? Number.parseInt(data.displayValue ?? '', 10);
                  if (Number.isFinite(value)) setUnits(Math.max(0, value as number));
                }}
              />
            </Field>
          </DialogContent>
          <DialogActions>
            <DialogTrigger disableButtonEnhancement>
              <Button appearance="secondary">Cancel</Button>
            </DialogTrigger>
            <Button appearance="primary" disabled={action.busy || skuId === ''} onClick={() => void save()}>
              Save
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
