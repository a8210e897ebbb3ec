// Sign in with the operator key, then pick a tenant or create one. The key stays in this tab's session storage.
import {
  Button,
  Card,
  CardHeader,
  Field,
  Input,
  makeStyles,
  Subtitle2,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  tokens,
} from '@fluentui/react-components';
import { type FormEvent, useState } from 'react';
import { OperatorApi, type Tenant } from '../api.js';
import { useAction } from '../hooks.js';
import { ErrorBar, PageHeader } from '../ui.js';

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, maxWidth: '760px' },
  form: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'flex-end', flexWrap: 'wrap' },
});

export function SignInPage(props: { onSignedIn(key: string, tenant: Tenant): Promise<void> }) {
  const styles = useStyles();
  const [key, setKey] = useState('');
  const [tenants, setTenants] = useState<readonly Tenant[]>();
  const [name, setName] = useState('');
  const [country, setCountry] = useState('US');
  const action = useAction();

  const listTenants = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () => setTenants((await new OperatorApi(key).tenants()).value));
  };
  const create = (event: FormEvent) => {
    event.preventDefault();
    void action.run(async () =>
      props.onSignedIn(key, await new OperatorApi(key).createTenant(name, country)),
    );
  };

  return (
    <div className={styles.stack}>
      <PageHeader
        title="Sign in"
        subtitle="The operator key is the function app's ADMIN_API_KEY (npm start prints it). It is kept in this browser tab only."
      />
      <ErrorBar error={action.error} title="Couldn’t sign in" />
      <Card>
        <form className={styles.form} onSubmit={listTenants}>
          <Field label="Operator key" required>
            <Input
              type="password"
              value={key}
              onChange={(_e, data) => setKey(data.value)}
              autoComplete="off"
            />
          </Field>
          <Button type="submit" appearance="primary" disabled={key === '' || action.busy}>
            Continue
          </Button>
        </form>
      </Card>
      {tenants ? (
        <>
          <Card>
            <CardHeader header={<Subtitle2 as="h2">Pick a tenant</Subtitle2>} />
            {tenants.length === 0 ? (
              'No tenants yet: create one below.'
            ) : (
              <Table aria-label="Tenants" size="small">
                <TableHeader>
                  <TableRow>
                    <TableHeaderCell>Name</TableHeaderCell>
                    <TableHeaderCell>Country</TableHeaderCell>
                    <TableHeaderCell>Tenant id</TableHeaderCell>
                    <TableHeaderCell />
                  </TableRow>
                </TableHeader>
                <TableBody>
                  {tenants.map((tenant) => (
                    <TableRow key={tenant.id}>
                      <TableCell>{tenant.displayName}</TableCell>
                      <TableCell>{tenant.countryLetterCode}</TableCell>
                      <TableCell>{tenant.id}</TableCell>
                      <TableCell>
                        <Button
                          size="small"
                          disabled={action.busy}
                          onClick={() => void action.run(() => props.onSignedIn(key, tenant))}
                          aria-label={`Open ${tenant.displayName}`}
                        >
                          Open
                        </Button>
                      </TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
          </Card>
          <Card>
            <CardHeader header={<Subtitle2 as="h2">Create a tenant</Subtitle2>} />
            <form className={styles.form} onSubmit={create}>
              <Field label="Organization name" required>
                <Input value={name} onChange={(_e, data) => setName(data.value)} />
              </Field>
              <Field label="Country (usage location default)" required hint="Two letters, e.g. US">
                <Input
                  value={country}
                  maxLength={2}
                  onChange={(_e, data) => setCountry(data.value.toUpperCase())}
                />
              </Field>
              <Button
                type="submit"
                appearance="primary"
                disabled={name === '' || country.length !== 2 || action.busy}
              >
                Create tenant
              </Button>
            </form>
          </Card>
        </>
      ) : null}
    </div>
  );
}
