// One product: its licensed groups with their processing status (a live progress bar while in progress) and its
// licensed users, read a page at a time and searchable by name.
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
import { useDeferredValue, useState } from 'react';
import {
  type Group,
  type LicenseProcessingDetails,
  odataString,
  type Page,
  type Principal,
  type SubscribedSku,
} from '../api.js';
import { processingPollMs, useLoad } from '../hooks.js';
import { href } from '../route.js';
import { useSession } from '../session.js';
import {
  ErrorBar,
  GroupStatus,
  Loading,
  PageHeader,
  Progress,
  SearchByName,
  UsageBar,
  usePagedList,
  VirtualList,
} from '../ui.js';
import { errorTitle, skuName } from '../wording.js';
import { SubscriptionStatus, totalOf, useWaitingCount } from './products.js';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL },
  facts: { display: 'flex', gap: tokens.spacingHorizontalXXL, alignItems: 'center', flexWrap: 'wrap' },
  name: { flexGrow: 1, minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
});

/** A licensed group's row: its status, and a progress bar while its members are being processed. */
export function GroupProcessing(props: { group: Pick<Group, 'id' | 'displayName'> }) {
  const { graph } = useSession();
  const details = useLoad(
    () => graph.get<LicenseProcessingDetails>(`groups/${props.group.id}/licenseProcessingDetails`),
    [graph, props.group.id],
    processingPollMs,
  );
  const d = details.data;
  return (
    <TableRow>
      <TableCell>
        <Link href={href({ page: 'group', id: props.group.id })}>{props.group.displayName}</Link>
      </TableCell>
      <TableCell>
        {d ? <GroupStatus status={d.status} failed={d.membersFailed} /> : <Loading label="" />}
      </TableCell>
      <TableCell>
        {d?.status === 'inProgress' ? (
          <Progress
            done={d.membersProcessed}
            total={d.membersTotal}
            label={`${props.group.displayName}: progress`}
          />
        ) : d ? (
          <Caption1>
            {d.membersSucceeded.toLocaleString()} assigned
            {d.membersFailed > 0
              ? ` · ${Object.entries(d.errorsByType)
                  .map(([error, count]) => `${count.toLocaleString()} ${errorTitle(error).toLowerCase()}`)
                  .join(', ')}`
              : ''}
          </Caption1>
        ) : null}
      </TableCell>
    </TableRow>
  );
}

export function ProductPage(props: { skuId: string }) {
  const styles = useStyles();
  const { graph, catalog } = useSession();
  const name = skuName(catalog, props.skuId);
  const isDevice = catalog.skus.find((s) => s.skuId === props.skuId)?.assignableTo === 'device';
  const sku = useLoad(
    async () =>
      (await graph.get<Page<SubscribedSku>>('subscribedSkus')).value.find((s) => s.skuId === props.skuId),
    [graph, props.skuId],
    5_000,
  );
  const waiting = useWaitingCount(props.skuId);
  const groups = useLoad(
    () =>
      graph.get<Page<Pick<Group, 'id' | 'displayName'>>>(
        `groups?$filter=assignedLicenses/any(x:x/skuId eq ${props.skuId})&$select=id,displayName&$top=999`,
      ),
    [graph, props.skuId],
  );
  const [search, setSearch] = useState('');
  const query = useDeferredValue(search.trim());
  const filter = `assignedLicenses/any(x:x/skuId eq ${props.skuId})${query ? ` and startswith(displayName,${odataString(query)})` : ''}`;
  const users = usePagedList<Principal>(
    isDevice
      ? undefined
      : `users?$filter=${encodeURIComponent(filter)}&$select=id,displayName,userPrincipalName,licenseAssignmentStates&$top=100`,
  );
  const s = sku.data;
  const total = s ? totalOf(s) : 0;
  return (
    <div className={styles.stack}>
      <PageHeader title={name} subtitle={<Link href={href({ page: 'products' })}>All products</Link>} />
      <ErrorBar error={sku.error ?? groups.error} />
      {s ? (
        <div className={styles.facts}>
          <SubscriptionStatus status={s.capabilityStatus} />
          <Text>Total: {total.toLocaleString()}</Text>
          <Text>Assigned: {s.consumedUnits.toLocaleString()}</Text>
          <Text>Available: {Math.max(0, total - s.consumedUnits).toLocaleString()}</Text>
          <Text>Expiring soon: {s.prepaidUnits.warning.toLocaleString()}</Text>
          <Text>Waiting for a seat: {waiting === undefined ? '…' : waiting.toLocaleString()}</Text>
          <UsageBar used={s.consumedUnits} total={total} label={`${name}: assigned of total`} />
        </div>
      ) : sku.loading ? (
        <Loading />
      ) : (
        <Text>The organization owns no {name} licenses.</Text>
      )}
      <Card>
        <CardHeader header={<Subtitle2 as="h2">Licensed groups</Subtitle2>} />
        {groups.data ? (
          <Table aria-label="Licensed groups" size="small">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Group</TableHeaderCell>
                <TableHeaderCell>Status</TableHeaderCell>
                <TableHeaderCell>Processing</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {groups.data.value.length === 0 ? (
                <TableRow>
                  <TableCell colSpan={3}>No group carries this product.</TableCell>
                </TableRow>
              ) : null}
              {groups.data.value.map((group) => (
                <GroupProcessing key={group.id} group={group} />
              ))}
            </TableBody>
          </Table>
        ) : (
          <Loading />
        )}
      </Card>
      {isDevice ? null : (
        <Card>
          <CardHeader header={<Subtitle2 as="h2">Licensed users</Subtitle2>} />
          <SearchByName value={search} onChange={setSearch} />
          <VirtualList
            source={users}
            rowHeight={44}
            height={440}
            label="Licensed users"
            empty="No licensed users."
            rowKey={(user) => user.id}
            renderRow={(user) => {
              const state = user.licenseAssignmentStates?.filter((st) => st.skuId === props.skuId) ?? [];
              const failing = state.find((st) => st.state === 'Error');
              const paths = state.map((st) => (st.assignedByGroup ? 'Inherited' : 'Direct'));
              return (
                <>
                  <Link className={styles.name} href={href({ page: 'user', id: user.id })}>
                    {user.displayName}
                  </Link>
                  <Caption1>{user.userPrincipalName}</Caption1>
                  <Caption1>{[...new Set(paths)].join(', ')}</Caption1>
                  {failing ? (
                    <Badge color="danger" appearance="tint">
                      {errorTitle(failing.error)}
                    </Badge>
                  ) : null}
                </>
              );
            }}
          />
        </Card>
      )}
    </div>
  );
}
