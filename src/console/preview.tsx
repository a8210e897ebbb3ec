// The what-if shown before every group Assign and Remove: seats needed against seats free, the members predicted to
// get each error, and the members whose other licenses would change (POST …/previewLicenseAssignment).
import {
  Caption1,
  Link,
  MessageBar,
  MessageBarBody,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
} from '@fluentui/react-components';
import type { LicenseAssignmentPreview, Principal } from './api.js';
import { useLoad } from './hooks.js';
import { href } from './route.js';
import { useSession } from './session.js';
import { errorTitle, skuName } from './wording.js';

export interface AssignLicenseBody {
  readonly addLicenses: readonly { readonly skuId: string; readonly disabledPlans: readonly string[] }[];
  readonly removeLicenses: readonly string[];
}

/** A principal named by id: a user, or else a device. */
export function PrincipalName(props: { id: string }) {
  const { graph } = useSession();
  const found = useLoad(async () => {
    try {
      return {
        kind: 'user' as const,
        ...(await graph.get<Principal>(`users/${props.id}?$select=id,displayName`)),
      };
    } catch {
      return { kind: 'device' as const, ...(await graph.get<Principal>(`devices/${props.id}`)) };
    }
  }, [graph, props.id]);
  const page = found.data?.kind === 'device' ? 'device' : 'user';
  return <Link href={href({ page, id: props.id })}>{found.data?.displayName ?? props.id}</Link>;
}

function Sample(props: { ids: readonly string[]; count: number }) {
  return (
    <Caption1>
      {props.ids.map((id, i) => (
        <span key={id}>
          {i > 0 ? ', ' : ''}
          <PrincipalName id={id} />
        </span>
      ))}
      {props.count > props.ids.length ? ` and ${(props.count - props.ids.length).toLocaleString()} more` : ''}
    </Caption1>
  );
}

export function PreviewSummary(props: { preview: LicenseAssignmentPreview }) {
  const { catalog } = useSession();
  const { preview } = props;
  const errors = Object.entries(preview.errors).filter(([, outcome]) => outcome.count > 0);
  const clean = errors.length === 0 && preview.otherLicensesChanged.count === 0;
  return (
    <section aria-label="Preview">
      <Text block>
        {preview.membersEvaluated.toLocaleString()} member{preview.membersEvaluated === 1 ? '' : 's'}{' '}
        evaluated. Nothing has changed yet.
      </Text>
      <Table aria-label="Seats" size="small">
        <TableHeader>
          <TableRow>
            <TableHeaderCell>Product</TableHeaderCell>
            <TableHeaderCell>Seats needed</TableHeaderCell>
            <TableHeaderCell>Seats released</TableHeaderCell>
            <TableHeaderCell>Available now</TableHeaderCell>
            <TableHeaderCell>Short</TableHeaderCell>
          </TableRow>
        </TableHeader>
        <TableBody>
          {preview.skus.map((sku) => (
            <TableRow key={sku.skuId}>
              <TableCell>{skuName(catalog, sku.skuId)}</TableCell>
              <TableCell>{sku.seatsNeeded.toLocaleString()}</TableCell>
              <TableCell>{sku.seatsReleased.toLocaleString()}</TableCell>
              <TableCell>{sku.seatsAvailable.toLocaleString()}</TableCell>
              <TableCell>{sku.seatsShort.toLocaleString()}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
      {clean ? (
        <MessageBar intent="success">
          <MessageBarBody>Every member would get the licenses, and no other license changes.</MessageBarBody>
        </MessageBar>
      ) : null}
      {errors.length > 0 ? (
        <Table aria-label="Predicted errors" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>Predicted error</TableHeaderCell>
              <TableHeaderCell>Members</TableHeaderCell>
              <TableHeaderCell>For example</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {errors.map(([error, outcome]) => (
              <TableRow key={error} data-error={error}>
                <TableCell>{errorTitle(error)}</TableCell>
                <TableCell>{outcome.count.toLocaleString()}</TableCell>
                <TableCell>
                  <Sample ids={outcome.sample} count={outcome.count} />
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      ) : null}
      {preview.otherLicensesChanged.count > 0 ? (
        <MessageBar intent="warning">
          <MessageBarBody>
            {preview.otherLicensesChanged.count.toLocaleString()} member
            {preview.otherLicensesChanged.count === 1 ? '’s' : 's’'} other licenses would change (a conflict
            or a dependency):{' '}
            <Sample ids={preview.otherLicensesChanged.sample} count={preview.otherLicensesChanged.count} />
          </MessageBarBody>
        </MessageBar>
      ) : null}
    </section>
  );
}
