// One group: its products with Assignment options (a switch per service plan), a what-if before every Assign and
// Remove, live processing status, the members in error with the reason and the fix, its members, and Reprocess.
import {
  Badge,
  Button,
  Caption1,
  Card,
  CardHeader,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  Link,
  makeStyles,
  Select,
  Subtitle2,
  Switch,
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
import {
  type Group,
  type LicenseAssignmentPreview,
  type LicenseProcessingDetails,
  odataString,
  type Page,
  type Principal,
  type SubscribedSku,
} from '../api.js';
import { processingPollMs, useAction, useLoad } from '../hooks.js';
import { type AssignLicenseBody, PreviewSummary } from '../preview.js';
import { href } from '../route.js';
import { useSession } from '../session.js';
import { ErrorBar, GroupStatus, Loading, PageHeader, Progress, usePagedList, VirtualList } from '../ui.js';
import { errorTitle, explainError, skuName } from '../wording.js';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'center', flexWrap: 'wrap' },
  plans: { display: 'flex', flexDirection: 'column', maxHeight: '40vh', overflowY: 'auto' },
  grow: { flexGrow: 1, minWidth: 0 },
  errorRow: { display: 'flex', flexDirection: 'column', flexGrow: 1, minWidth: 0, overflow: 'hidden' },
  clip: { overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
  wide: { maxWidth: '760px', width: '90vw' },
});

type GroupView = Pick<
  Group,
  'id' | 'displayName' | 'description' | 'assignedLicenses' | 'groupTypes' | 'membershipRule'
>;

export function GroupPage(props: { id: string }) {
  const styles = useStyles();
  const { graph } = useSession();
  const group = useLoad(
    () =>
      graph.get<GroupView>(
        `groups/${props.id}?$select=id,displayName,description,assignedLicenses,groupTypes,membershipRule`,
      ),
    [graph, props.id],
  );
  const details = useLoad(
    () => graph.get<LicenseProcessingDetails>(`groups/${props.id}/licenseProcessingDetails`),
    [graph, props.id],
    processingPollMs,
  );
  const [changed, setChanged] = useState(0);
  const afterChange = () => {
    group.reload();
    details.reload();
    setChanged((n) => n + 1);
  };
  if (group.error) return <ErrorBar error={group.error} title="Couldn’t open the group" />;
  if (!group.data) return <Loading />;
  const g = group.data;
  const dynamic = g.groupTypes?.includes('DynamicMembership') ?? false;
  return (
    <div className={styles.stack}>
      <PageHeader
        title={g.displayName}
        subtitle={
          <>
            <Link href={href({ page: 'groups' })}>Groups</Link>
            {dynamic ? ` · Dynamic membership: ${g.membershipRule ?? ''}` : ''}
          </>
        }
      />
      <Card>
        <CardHeader
          header={<Subtitle2 as="h2">Licenses</Subtitle2>}
          action={<AssignDialog group={g} onDone={afterChange} />}
        />
        <LicensesTable group={g} onDone={afterChange} />
      </Card>
      <Card>
        <CardHeader
          header={<Subtitle2 as="h2">Processing</Subtitle2>}
          action={<Reprocess path={`groups/${g.id}/reprocessLicenseAssignment`} onDone={afterChange} />}
        />
        <ErrorBar error={details.error} />
        {(g.assignedLicenses ?? []).length === 0 && details.data?.status !== 'inProgress' ? (
          <Text>No products are assigned, so there is nothing to process.</Text>
        ) : details.data ? (
          <ProcessingState details={details.data} name={g.displayName} />
        ) : (
          <Loading />
        )}
      </Card>
      {/* Read again whenever the count of failing members moves. */}
      <MembersWithErrors key={`${changed}|${details.data?.membersFailed ?? 0}`} group={g} />
      <Members group={g} dynamic={dynamic} />
    </div>
  );
}

function ProcessingState(props: { details: LicenseProcessingDetails; name: string }) {
  const styles = useStyles();
  const d = props.details;
  return (
    <div className={styles.stack} data-status={d.status}>
      <div className={styles.row}>
        <GroupStatus status={d.status} failed={d.membersFailed} />
        <Text>
          {d.membersSucceeded.toLocaleString()} of {d.membersTotal.toLocaleString()} members have their
          licenses
          {d.membersFailed > 0
            ? `; ${d.membersFailed.toLocaleString()} ${d.membersFailed === 1 ? 'has' : 'have'} errors`
            : ''}
          .
        </Text>
      </div>
      {d.status === 'inProgress' ? (
        <Progress
          done={d.membersProcessed}
          total={d.membersTotal}
          label={`${props.name}: processing progress`}
        />
      ) : null}
      {Object.keys(d.errorsByType).length > 0 ? (
        <div className={styles.row}>
          {Object.entries(d.errorsByType).map(([error, count]) => (
            <Badge key={error} appearance="outline" color="danger">
              {errorTitle(error)}: {count.toLocaleString()}
            </Badge>
          ))}
        </div>
      ) : null}
      {d.lastFailure ? <Caption1>Last failure: {d.lastFailure}</Caption1> : null}
    </div>
  );
}

export function Reprocess(props: { path: string; onDone(): void }) {
  const { graph } = useSession();
  const action = useAction();
  return (
    <>
      <Button
        disabled={action.busy}
        onClick={() => void action.run(() => graph.post(props.path, {}).then(props.onDone))}
      >
        Reprocess
      </Button>
      <ErrorBar error={action.error} title="Couldn’t reprocess" />
    </>
  );
}

function LicensesTable(props: { group: GroupView; onDone(): void }) {
  const { catalog } = useSession();
  const licenses = props.group.assignedLicenses ?? [];
  if (licenses.length === 0) return <Text>No products are assigned to this group.</Text>;
  return (
    <Table aria-label="Assigned products" size="small">
      <TableHeader>
        <TableRow>
          <TableHeaderCell>Product</TableHeaderCell>
          <TableHeaderCell>Service plans on</TableHeaderCell>
          <TableHeaderCell />
        </TableRow>
      </TableHeader>
      <TableBody>
        {licenses.map((license) => {
          const plans = catalog.skus.find((s) => s.skuId === license.skuId)?.servicePlans.length ?? 0;
          return (
            <TableRow key={license.skuId}>
              <TableCell>
                <Link href={href({ page: 'product', skuId: license.skuId })}>
                  {skuName(catalog, license.skuId)}
                </Link>
              </TableCell>
              <TableCell>
                {plans - license.disabledPlans.length} of {plans}
              </TableCell>
              <TableCell>
                <AssignDialog group={props.group} existing={license} onDone={props.onDone} />{' '}
                <RemoveDialog group={props.group} skuId={license.skuId} onDone={props.onDone} />
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}

/** Preview the change, then apply it only when the admin confirms. */
function usePreviewThenApply(groupId: string, onDone: () => void) {
  const { graph } = useSession();
  const [preview, setPreview] = useState<LicenseAssignmentPreview>();
  const action = useAction();
  return {
    preview,
    error: action.error,
    busy: action.busy,
    reset() {
      setPreview(undefined);
      action.reset();
    },
    review: (body: AssignLicenseBody) =>
      action.run(async () =>
        setPreview(
          await graph.post<LicenseAssignmentPreview>(`groups/${groupId}/previewLicenseAssignment`, body),
        ),
      ),
    apply: (body: AssignLicenseBody, close: () => void) =>
      action.run(async () => {
        await graph.post(`groups/${groupId}/assignLicense`, body);
        close();
        onDone();
      }),
  };
}

/** Assignment options: pick a product (or edit one), a switch per service plan, review the what-if, assign. */
function AssignDialog(props: {
  group: GroupView;
  existing?: { skuId: string; disabledPlans: readonly string[] };
  onDone(): void;
}) {
  const styles = useStyles();
  const { graph, catalog } = useSession();
  const [open, setOpen] = useState(false);
  const owned = useLoad(
    async () => (open ? (await graph.get<Page<SubscribedSku>>('subscribedSkus')).value : []),
    [graph, open],
  );
  const assigned = new Set((props.group.assignedLicenses ?? []).map((l) => l.skuId));
  const choices = (owned.data ?? []).filter((s) => !assigned.has(s.skuId));
  const [chosen, setChosen] = useState<string>();
  const skuId = props.existing?.skuId ?? chosen ?? choices[0]?.skuId ?? '';
  const [disabled, setDisabled] = useState<ReadonlySet<string>>(new Set(props.existing?.disabledPlans ?? []));
  const flow = usePreviewThenApply(props.group.id, props.onDone);
  const plans = catalog.skus.find((s) => s.skuId === skuId)?.servicePlans ?? [];
  const body: AssignLicenseBody = {
    addLicenses: [
      { skuId, disabledPlans: plans.map((p) => p.servicePlanId).filter((id) => disabled.has(id)) },
    ],
    removeLicenses: [],
  };
  const title = props.existing ? `Assignment options: ${skuName(catalog, skuId)}` : 'Assign licenses';
  return (
    <Dialog
      open={open}
      onOpenChange={(_e, data) => {
        setOpen(data.open);
        flow.reset();
      }}
    >
      <Button
        appearance={props.existing ? 'secondary' : 'primary'}
        size={props.existing ? 'small' : 'medium'}
        onClick={() => setOpen(true)}
        aria-label={props.existing ? `Edit ${skuName(catalog, skuId)}` : 'Assign licenses'}
      >
        {props.existing ? 'Edit' : 'Assign licenses'}
      </Button>
      <DialogSurface className={styles.wide}>
        <DialogBody>
          <DialogTitle>{title}</DialogTitle>
          <DialogContent className={styles.stack}>
            <ErrorBar error={flow.error ?? owned.error} title="The change was refused" />
            {flow.preview ? (
              <PreviewSummary preview={flow.preview} />
            ) : (
              <>
                {props.existing ? null : (
                  <Field
                    label="Product"
                    hint={
                      choices.length === 0 && !owned.loading
                        ? 'Buy licenses first (All products).'
                        : undefined
                    }
                  >
                    <Select
                      value={skuId}
                      onChange={(_e, data) => {
                        setChosen(data.value);
                        setDisabled(new Set());
                      }}
                    >
                      {choices.map((s) => (
                        <option key={s.skuId} value={s.skuId}>
                          {skuName(catalog, s.skuId)}
                        </option>
                      ))}
                    </Select>
                  </Field>
                )}
                <fieldset className={styles.plans} aria-label="Service plans">
                  <legend>Service plans</legend>
                  {plans.map((plan) => (
                    <Switch
                      key={plan.servicePlanId}
                      label={plan.servicePlanName}
                      checked={!disabled.has(plan.servicePlanId)}
                      onChange={(_e, data) => {
                        const next = new Set(disabled);
                        if (data.checked) next.delete(plan.servicePlanId);
                        else next.add(plan.servicePlanId);
                        setDisabled(next);
                      }}
                    />
                  ))}
                </fieldset>
              </>
            )}
          </DialogContent>
          <DialogActions>
            <Button onClick={() => setOpen(false)}>Cancel</Button>
            {flow.preview ? (
              <>
                <Button onClick={flow.reset}>Back</Button>
                <Button
                  appearance="primary"
                  disabled={flow.busy}
                  onClick={() => void flow.apply(body, () => setOpen(false))}
                >
                  {props.existing ? 'Save' : 'Assign'}
                </Button>
              </>
            ) : (
              <Button
                appearance="primary"
                disabled={flow.busy || skuId === ''}
                onClick={() => void flow.review(body)}
              >
                Review
              </Button>
            )}
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

function RemoveDialog(props: { group: GroupView; skuId: string; onDone(): void }) {
  const styles = useStyles();
  const { catalog } = useSession();
  const [open, setOpen] = useState(false);
  const flow = usePreviewThenApply(props.group.id, props.onDone);
  const body: AssignLicenseBody = { addLicenses: [], removeLicenses: [props.skuId] };
  const name = skuName(catalog, props.skuId);
  return (
    <Dialog
      open={open}
      onOpenChange={(_e, data) => {
        setOpen(data.open);
        flow.reset();
      }}
    >
      <Button
        size="small"
        aria-label={`Remove ${name}`}
        onClick={() => {
          setOpen(true);
          void flow.review(body);
        }}
      >
        Remove
      </Button>
      <DialogSurface className={styles.wide}>
        <DialogBody>
          <DialogTitle>
            Remove {name} from {props.group.displayName}?
          </DialogTitle>
          <DialogContent className={styles.stack}>
            <ErrorBar error={flow.error} title="The change was refused" />
            {flow.preview ? <PreviewSummary preview={flow.preview} /> : <Loading label="Previewing…" />}
          </DialogContent>
          <DialogActions>
            <Button onClick={() => setOpen(false)}>Cancel</Button>
            <Button
              appearance="primary"
              disabled={flow.busy || !flow.preview}
              onClick={() => void flow.apply(body, () => setOpen(false))}
            >
              Remove
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

function MembersWithErrors(props: { group: GroupView }) {
  const styles = useStyles();
  const { catalog } = useSession();
  const list = usePagedList<Principal>(
    `groups/${props.group.id}/membersWithLicenseErrors?$select=id,displayName,userPrincipalName,usageLocation,licenseAssignmentStates&$top=100`,
  );
  return (
    <Card>
      <CardHeader header={<Subtitle2 as="h2">Members with errors</Subtitle2>} />
      <VirtualList
        source={list}
        rowHeight={88}
        height={440}
        label="Members with license errors"
        empty="No member has a license error from this group."
        rowKey={(member) => member.id}
        renderRow={(member) => {
          const states = member.licenseAssignmentStates ?? [];
          const failing = states.filter((s) => s.assignedByGroup === props.group.id && s.state === 'Error');
          const others = states.filter((s) => s.state === 'Active');
          const kind = member['@odata.type']?.endsWith('device') ? 'device' : 'user';
          return (
            <div className={styles.errorRow} data-member={member.id}>
              <Link className={styles.clip} href={href({ page: kind, id: member.id })}>
                {member.displayName}
              </Link>
              {failing.map((state) => {
                const { reason, fix } = explainError(
                  catalog,
                  state.error,
                  state,
                  others,
                  member.usageLocation,
                );
                return (
                  <div key={state.skuId} className={styles.clip} data-error={state.error}>
                    <Badge appearance="tint" color="danger">
                      {errorTitle(state.error)}
                    </Badge>{' '}
                    <Caption1 title={`${reason} ${fix}`}>
                      {skuName(catalog, state.skuId)}: {reason} <strong>Fix:</strong> {fix}
                    </Caption1>
                  </div>
                );
              })}
            </div>
          );
        }}
      />
    </Card>
  );
}

function Members(props: { group: GroupView; dynamic: boolean }) {
  const styles = useStyles();
  const list = usePagedList<Principal>(`groups/${props.group.id}/members?$top=100`);
  return (
    <Card>
      <CardHeader
        header={<Subtitle2 as="h2">Members</Subtitle2>}
        action={props.dynamic ? undefined : <AddMember groupId={props.group.id} onDone={list.reload} />}
      />
      <VirtualList
        source={list}
        rowHeight={40}
        height={400}
        label="Members"
        empty="No members."
        rowKey={(member) => member.id}
        renderRow={(member) => {
          const type = member['@odata.type'] ?? '';
          const page = type.endsWith('device') ? 'device' : type.endsWith('group') ? 'group' : 'user';
          return (
            <>
              <Link className={styles.grow} href={href({ page, id: member.id })}>
                {member.displayName}
              </Link>
              <Caption1>{member.userPrincipalName ?? page}</Caption1>
            </>
          );
        }}
      />
    </Card>
  );
}

/** Adds a user found by the start of their name (Graph's members/$ref). */
function AddMember(props: { groupId: string; onDone(): void }) {
  const styles = useStyles();
  const { graph } = useSession();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const action = useAction();
  const found = useLoad(
    async () =>
      open && name.trim()
        ? (
            await graph.get<Page<Principal>>(
              `users?$filter=${encodeURIComponent(`startswith(displayName,${odataString(name.trim())})`)}&$select=id,displayName,userPrincipalName&$top=10`,
            )
          ).value
        : [],
    [graph, open, name],
  );
  const add = (id: string) =>
    action.run(async () => {
      await graph.post(`groups/${props.groupId}/members/$ref`, {
        '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${id}`,
      });
      props.onDone();
    });
  return (
    <Dialog open={open} onOpenChange={(_e, data) => setOpen(data.open)}>
      <Button onClick={() => setOpen(true)}>Add members</Button>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>Add members</DialogTitle>
          <DialogContent className={styles.stack}>
            <ErrorBar error={action.error ?? found.error} title="Couldn’t add the member" />
            <Field label="User name starts with">
              <Input value={name} onChange={(_e, data) => setName(data.value)} />
            </Field>
            {(found.data ?? []).map((user) => (
              <div key={user.id} className={styles.row}>
                <Text className={styles.grow}>
                  {user.displayName} <Caption1>{user.userPrincipalName}</Caption1>
                </Text>
                <Button size="small" onClick={() => void add(user.id)} aria-label={`Add ${user.displayName}`}>
                  Add
                </Button>
              </div>
            ))}
          </DialogContent>
          <DialogActions>
            <Button onClick={() => setOpen(false)}>Done</Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
