// Users or devices: search by name, open one; add a user, or bring a whole directory in with the NDJSON import.
import {
  Button,
  Caption1,
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
  Textarea,
  tokens,
} from '@fluentui/react-components';
import { useDeferredValue, useState } from 'react';
import { type ImportResult, odataString, type Principal } from '../api.js';
import { useAction } from '../hooks.js';
import { href } from '../route.js';
import { useSession } from '../session.js';
import { ErrorBar, PageHeader, SearchByName, usePagedList, VirtualList } from '../ui.js';
import { skuName } from '../wording.js';

const useStyles = makeStyles({
  row: { display: 'flex', gap: tokens.spacingHorizontalS },
  name: { flexGrow: 1, minWidth: 0 },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  wide: { maxWidth: '760px', width: '90vw' },
});

export function PrincipalsPage(props: { kind: 'user' | 'device' }) {
  const styles = useStyles();
  const { catalog } = useSession();
  const [search, setSearch] = useState('');
  const query = useDeferredValue(search.trim());
  const filter = query
    ? `&$filter=${encodeURIComponent(`startswith(displayName,${odataString(query)})`)}`
    : '';
  const list = usePagedList<Principal>(
    props.kind === 'user'
      ? `users?$select=id,displayName,userPrincipalName,assignedLicenses&$top=100${filter}`
      : `devices?$select=id,displayName,assignedLicenses&$top=100${filter}`,
  );
  return (
    <>
      <PageHeader
        title={props.kind === 'user' ? 'Users' : 'Devices'}
        actions={
          <div className={styles.row}>
            {props.kind === 'user' ? <NewUser onDone={list.reload} /> : null}
            <ImportDirectory onDone={list.reload} />
          </div>
        }
      />
      <SearchByName value={search} onChange={setSearch} />
      <VirtualList
        source={list}
        rowHeight={44}
        height={560}
        label={props.kind === 'user' ? 'Users' : 'Devices'}
        empty={props.kind === 'user' ? 'No users.' : 'No devices.'}
        rowKey={(p) => p.id}
        renderRow={(p) => (
          <>
            <Link className={styles.name} href={href({ page: props.kind, id: p.id })}>
              {p.displayName}
            </Link>
            {p.userPrincipalName ? <Caption1>{p.userPrincipalName}</Caption1> : null}
            <Caption1>
              {(p.assignedLicenses ?? []).map((l) => skuName(catalog, l.skuId)).join(', ') || 'Unlicensed'}
            </Caption1>
          </>
        )}
      />
    </>
  );
}

function NewUser(props: { onDone(): void }) {
  const styles = useStyles();
  const { graph, tenant } = useSession();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [upn, setUpn] = useState('');
  const [location, setLocation] = useState(tenant.countryLetterCode);
  const action = useAction();
  const create = () =>
    action.run(async () => {
      await graph.post('users', {
        accountEnabled: true,
        displayName: name,
        mailNickname: upn.split('@')[0] || 'user',
        userPrincipalName: upn,
        usageLocation: location || null,
        passwordProfile: { password: crypto.randomUUID() },
      });
      setOpen(false);
      props.onDone();
    });
  return (
    <Dialog open={open} onOpenChange={(_e, data) => setOpen(data.open)}>
      <Button appearance="primary" onClick={() => setOpen(true)}>
        New user
      </Button>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>New user</DialogTitle>
          <DialogContent className={styles.form}>
            <ErrorBar error={action.error} title="Couldn’t create the user" />
            <Field label="Display name" required>
              <Input value={name} onChange={(_e, data) => setName(data.value)} />
            </Field>
            <Field label="User principal name" required hint="name@domain">
              <Input value={upn} onChange={(_e, data) => setUpn(data.value)} />
            </Field>
            <Field label="Usage location" hint="Two letters; licenses need one">
              <Input
                value={location}
                maxLength={2}
                onChange={(_e, data) => setLocation(data.value.toUpperCase())}
              />
            </Field>
          </DialogContent>
          <DialogActions>
            <Button onClick={() => setOpen(false)}>Cancel</Button>
            <Button appearance="primary" disabled={!name || !upn.includes('@')} onClick={() => void create()}>
              Create
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}

const IMPORT_EXAMPLE = [
  '{"type":"group","id":"11111111-2222-3333-4444-555555555555","displayName":"HR Department"}',
  '{"type":"user","userPrincipalName":"ana@contoso.com","displayName":"Ana","usageLocation":"US","memberOf":["11111111-2222-3333-4444-555555555555"]}',
].join('\n');

/** The operator API's NDJSON import: users, groups, devices and memberships, one object a line. */
function ImportDirectory(props: { onDone(): void }) {
  const styles = useStyles();
  const { operator, tenant } = useSession();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [result, setResult] = useState<ImportResult>();
  const action = useAction();
  const run = () =>
    action.run(async () => {
      setResult(await operator.importDirectory(tenant.id, text));
      props.onDone();
    });
  return (
    <Dialog
      open={open}
      onOpenChange={(_e, data) => {
        setOpen(data.open);
        setResult(undefined);
      }}
    >
      <Button onClick={() => setOpen(true)}>Import</Button>
      <DialogSurface className={styles.wide}>
        <DialogBody>
          <DialogTitle>Import users, groups and devices</DialogTitle>
          <DialogContent className={styles.form}>
            <ErrorBar error={action.error} title="The import was refused" />
            <Field
              label="NDJSON, one object a line"
              hint="Types: user, group, device, member (docs/api.md, Operator API)."
            >
              <Textarea
                rows={10}
                value={text}
                placeholder={IMPORT_EXAMPLE}
                onChange={(_e, data) => setText(data.value)}
              />
            </Field>
            {result ? (
              <Caption1 role="status">
                Imported {result.users ?? 0} users, {result.groups ?? 0} groups, {result.devices ?? 0}{' '}
                devices, {result.members ?? 0} memberships
                {result.errors?.length
                  ? `; skipped ${result.errors.map((e) => `line ${e.line} (${e.message})`).join(', ')}`
                  : ''}
                .
              </Caption1>
            ) : null}
          </DialogContent>
          <DialogActions>
            <Button onClick={() => setOpen(false)}>Close</Button>
            <Button
              appearance="primary"
              disabled={action.busy || text.trim() === ''}
              onClick={() => void run()}
            >
              Import
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
