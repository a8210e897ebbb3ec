// Errors & waiting: the groups that require attention with their errors by type, and each product's waiting room
// in the order seats will be handed out.
import {
  Badge,
  Caption1,
  Card,
  CardHeader,
  Link,
  makeStyles,
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
import type { Group, LicenseProcessingDetails, Page, SubscribedSku, Waiter } from '../api.js';
import { useLoad } from '../hooks.js';
import { href } from '../route.js';
import { useSession } from '../session.js';
import { ErrorBar, Loading, PageHeader, usePagedList, VirtualList, when } from '../ui.js';
import { errorTitle, skuName } from '../wording.js';
import { GroupProcessing } from './product.js';
import { useWaitingCount } from './products.js';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL },
  row: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
  name: { flexGrow: 1, minWidth: 0 },
});

/** Groups read for the totals at most: the list itself pages on. */
const TOTALS_FROM = 100;

export function ErrorsPage() {
  const styles = useStyles();
  const { graph } = useSession();
  const groups = useLoad(
    async () => {
      const page = await graph.get<Page<Pick<Group, 'id' | 'displayName'>>>(
        `groups?$filter=hasMembersWithLicenseErrors eq true&$select=id,displayName&$top=${TOTALS_FROM}`,
      );
      const details = await Promise.all(
        page.value.map((g) => graph.get<LicenseProcessingDetails>(`groups/${g.id}/licenseProcessingDetails`)),
      );
      const totals = new Map<string, number>();
      for (const d of details)
        for (const [error, count] of Object.entries(d.errorsByType))
          totals.set(error, (totals.get(error) ?? 0) + count);
      return { groups: page.value, more: page['@odata.nextLink'] !== undefined, totals };
    },
    [graph],
    10_000,
  );
  const skus = useLoad(() => graph.get<Page<SubscribedSku>>('subscribedSkus'), [graph]);
  return (
    <div className={styles.stack}>
      <PageHeader
        title="Errors & waiting"
        subtitle="Groups that require attention, and who waits for a seat."
      />
      <ErrorBar error={groups.error ?? skus.error} />
      <Card>
        <CardHeader header={<Subtitle2 as="h2">Groups that require attention</Subtitle2>} />
        {groups.data ? (
          <>
            <div className={styles.row}>
              {[...groups.data.totals].map(([error, count]) => (
                <Badge key={error} appearance="tint" color="danger">
                  {errorTitle(error)}: {count.toLocaleString()}
                </Badge>
              ))}
              {groups.data.more ? <Caption1>(totals of the first {TOTALS_FROM} groups)</Caption1> : null}
            </div>
            <Table aria-label="Groups with license errors" size="small">
              <TableHeader>
                <TableRow>
                  <TableHeaderCell>Group</TableHeaderCell>
                  <TableHeaderCell>Status</TableHeaderCell>
                  <TableHeaderCell>Processing</TableHeaderCell>
                </TableRow>
              </TableHeader>
              <TableBody>
                {groups.data.groups.length === 0 ? (
                  <TableRow>
                    <TableCell colSpan={3}>No group has members with license errors.</TableCell>
                  </TableRow>
                ) : null}
                {groups.data.groups.map((group) => (
                  <GroupProcessing key={group.id} group={group} />
                ))}
              </TableBody>
            </Table>
          </>
        ) : (
          <Loading />
        )}
      </Card>
      {(skus.data?.value ?? []).map((sku) => (
        <WaitingRoom key={sku.skuId} skuId={sku.skuId} />
      ))}
    </div>
  );
}

function WaitingRoom(props: { skuId: string }) {
  const styles = useStyles();
  const { catalog } = useSession();
  const count = useWaitingCount(props.skuId);
  const list = usePagedList<Waiter>(
    count ? `subscribedSkus/${props.skuId}/waitingPrincipals?$top=100` : undefined,
  );
  if (!count) return null;
  const name = skuName(catalog, props.skuId);
  return (
    <Card>
      <CardHeader
        header={<Subtitle2 as="h2">Waiting for {name}</Subtitle2>}
        description={<Text>{count.toLocaleString()} waiting, first come first served</Text>}
      />
      <VirtualList
        source={list}
        rowHeight={40}
        height={320}
        label={`Waiting room of ${name}`}
        empty="Nobody is waiting."
        rowKey={(w) => w.id}
        renderRow={(w) => (
          <>
            <Caption1>#{w.position}</Caption1>
            <Link className={styles.name} href={href({ page: w.principalType, id: w.id })}>
              {w.displayName}
            </Link>
            <Caption1>waiting since {when(w.waitingSince)}</Caption1>
          </>
        )}
      />
    </Card>
  );
}
