// One user or device: its licenses with their assignment paths (Direct, Inherited (group), or both), the service
// plans each brings, errors explained with the fix, Reprocess, and removing a direct license (an inherited one is
// removed from its group, as in Entra).
import {
  Badge,
  Button,
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
import { useState } from 'react';
import type { Group, Principal } from '../api.js';
import { useAction, useLoad } from '../hooks.js';
import { href } from '../route.js';
import { useSession } from '../session.js';
import { ErrorBar, Loading, PageHeader, when } from '../ui.js';
import { errorTitle, explainError, planName, skuName } from '../wording.js';
import { Reprocess } from './group.js';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL },
  cell: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalXXS,
    paddingTop: tokens.spacingVerticalXS,
    paddingBottom: tokens.spacingVerticalXS,
  },
  plans: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalXS },
});

function GroupName(props: { id: string }) {
  const { graph } = useSession();
  const group = useLoad(
    () => graph.get<Pick<Group, 'id' | 'displayName'>>(`groups/${props.id}?$select=id,displayName`),
    [graph, props.id],
  );
  return <Link href={href({ page: 'group', id: props.id })}>{group.data?.displayName ?? props.id}</Link>;
}

/** How many of the product's service plans are on, and (on request) which: a product can have 40 of them. */
function PlansOn(props: { skuId: string; on: ReadonlySet<string>; active: boolean }) {
  const styles = useStyles();
  const { catalog } = useSession();
  const [shown, setShown] = useState(false);
  const plans = catalog.skus.find((s) => s.skuId === props.skuId)?.servicePlans ?? [];
  if (!props.active) return <Caption1>None: the license isn’t active.</Caption1>;
  return (
    <div className={styles.cell}>
      <Caption1>
        {props.on.size} of {plans.length} on
      </Caption1>
      <Button
        size="small"
        appearance="subtle"
        aria-expanded={shown}
        onClick={() => setShown(!shown)}
        aria-label={`${shown ? 'Hide' : 'Show'} the service plans of ${skuName(catalog, props.skuId)}`}
      >
        {shown ? 'Hide plans' : 'Show plans'}
      </Button>
      {shown ? (
        <div className={styles.plans}>
          {plans.map((plan) => (
            <Badge
              key={plan.servicePlanId}
              appearance={props.on.has(plan.servicePlanId) ? 'tint' : 'outline'}
              color={props.on.has(plan.servicePlanId) ? 'brand' : 'subtle'}
            >
              {planName(catalog, plan.servicePlanId)}
              {props.on.has(plan.servicePlanId) ? '' : ' (off)'}
            </Badge>
          ))}
        </div>
      ) : null}
    </div>
  );
}

export function PrincipalPage(props: { kind: 'user' | 'device'; id: string }) {
  const styles = useStyles();
  const { graph, catalog } = useSession();
  const path =
    props.kind === 'user'
      ? `users/${props.id}?$select=id,displayName,userPrincipalName,usageLocation,accountEnabled,assignedLicenses,licenseAssignmentStates`
      : `devices/${props.id}?$select=id,displayName,accountEnabled,assignedLicenses,licenseAssignmentStates`;
  const principal = useLoad(() => graph.get<Principal>(path), [graph, path], 3_000);
  const action = useAction();
  if (principal.error && !principal.data)
    return <ErrorBar error={principal.error} title="Couldn’t open it" />;
  if (!principal.data) return <Loading />;
  const p = principal.data;
  const states = p.licenseAssignmentStates ?? [];
  const skuIds = [...new Set(states.map((s) => s.skuId))];
  const active = states.filter((s) => s.state === 'Active');
  const removeDirect = (skuId: string) =>
    action.run(async () => {
      await graph.post(`users/${p.id}/assignLicense`, { addLicenses: [], removeLicenses: [skuId] });
      principal.reload();
    });
  return (
    <div className={styles.stack}>
      <PageHeader
        title={p.displayName}
        subtitle={
          <>
            <Link href={href({ page: props.kind === 'user' ? 'users' : 'devices' })}>
              {props.kind === 'user' ? 'Users' : 'Devices'}
            </Link>
            {p.userPrincipalName ? ` · ${p.userPrincipalName}` : ''}
            {props.kind === 'user' ? ` · Usage location: ${p.usageLocation ?? 'not set'}` : ''}
          </>
        }
        actions={
          props.kind === 'user' ? (
            <Reprocess path={`users/${p.id}/reprocessLicenseAssignment`} onDone={principal.reload} />
          ) : undefined
        }
      />
      <ErrorBar error={action.error} title="The change was refused" />
      <Card>
        <CardHeader header={<Subtitle2 as="h2">Licenses</Subtitle2>} />
        {skuIds.length === 0 ? (
          <Text>No licenses.</Text>
        ) : (
          <Table aria-label="Licenses and assignment paths">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>Product</TableHeaderCell>
                <TableHeaderCell>Assignment paths</TableHeaderCell>
                <TableHeaderCell>Service plans</TableHeaderCell>
                <TableHeaderCell />
              </TableRow>
            </TableHeader>
            <TableBody>
              {skuIds.map((skuId) => {
                const paths = states.filter((s) => s.skuId === skuId);
                const direct = paths.find((s) => s.assignedByGroup === null);
                const activePaths = paths.filter((s) => s.state === 'Active');
                // A plan is on when any active path leaves it on.
                const plans = catalog.skus.find((s) => s.skuId === skuId)?.servicePlans ?? [];
                const on = new Set(
                  plans
                    .map((plan) => plan.servicePlanId)
                    .filter((id) => activePaths.some((s) => !s.disabledPlans.includes(id))),
                );
                return (
                  <TableRow key={skuId} data-sku={skuId}>
                    <TableCell>
                      <Link href={href({ page: 'product', skuId })}>{skuName(catalog, skuId)}</Link>
                    </TableCell>
                    <TableCell>
                      <div className={styles.cell}>
                        {paths.map((state) => {
                          const explained =
                            state.state === 'Error'
                              ? explainError(catalog, state.error, state, active, p.usageLocation)
                              : undefined;
                          return (
                            <div
                              key={state.assignedByGroup ?? 'direct'}
                              data-path={state.assignedByGroup ?? 'direct'}
                            >
                              {state.assignedByGroup ? (
                                <>
                                  Inherited (<GroupName id={state.assignedByGroup} />)
                                </>
                              ) : (
                                'Direct'
                              )}{' '}
                              {state.state === 'Active' ? (
                                <Badge appearance="tint" color="success">
                                  Active
                                </Badge>
                              ) : (
                                <Badge
                                  appearance="tint"
                                  color={state.state === 'Error' ? 'danger' : 'warning'}
                                >
                                  {state.state === 'Error' ? errorTitle(state.error) : state.state}
                                </Badge>
                              )}
                              <Caption1> since {when(state.lastUpdatedDateTime)}</Caption1>
                              {explained ? (
                                <div>
                                  <Caption1>
                                    {explained.reason} <strong>Fix:</strong> {explained.fix}
                                  </Caption1>
                                </div>
                              ) : null}
                            </div>
                          );
                        })}
                      </div>
                    </TableCell>
                    <TableCell>
                      <PlansOn skuId={skuId} on={on} active={activePaths.length > 0} />
                    </TableCell>
                    <TableCell>
                      {direct && props.kind === 'user' ? (
                        <Button
                          size="small"
                          onClick={() => void removeDirect(skuId)}
                          aria-label={`Remove direct ${skuName(catalog, skuId)}`}
                        >
                          Remove direct license
                        </Button>
                      ) : paths.some((s) => s.assignedByGroup) ? (
                        <Caption1>Inherited licenses are removed from their group.</Caption1>
                      ) : null}
                    </TableCell>
                  </TableRow>
                );
              })}
            </TableBody>
          </Table>
        )}
      </Card>
    </div>
  );
}
