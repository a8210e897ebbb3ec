// Groups: search by name, open one, or create a security group to license.
import {
  Button,
  Caption1,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  DialogTrigger,
  Field,
  Input,
  Link,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useDeferredValue, useState } from 'react';
import { type Group, odataString } from '../api.js';
import { useAction } from '../hooks.js';
import { href } from '../route.js';
import { useSession } from '../session.js';
import { ErrorBar, PageHeader, SearchByName, usePagedList, VirtualList } from '../ui.js';
import { skuName } from '../wording.js';

const useStyles = makeStyles({
  name: { flexGrow: 1 },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
});

export function GroupsPage() {
  const styles = useStyles();
  const { catalog } = useSession();
  const [search, setSearch] = useState('');
  const query = useDeferredValue(search.trim());
  const groups = usePagedList<Pick<Group, 'id' | 'displayName' | 'assignedLicenses' | 'groupTypes'>>(
    `groups?$select=id,displayName,assignedLicenses,groupTypes&$top=100${
      query ? `&$filter=${encodeURIComponent(`startswith(displayName,${odataString(query)})`)}` : ''
    }`,
  );
  return (
    <>
      <PageHeader
        title="Groups"
        subtitle="Assign products to a group and every member gets them."
        actions={<NewGroup />}
      />
      <SearchByName value={search} onChange={setSearch} />
      <VirtualList
        source={groups}
        rowHeight={44}
        height={560}
        label="Groups"
        empty="No groups."
        rowKey={(group) => group.id}
        renderRow={(group) => (
          <>
            <Link className={styles.name} href={href({ page: 'group', id: group.id })}>
              {group.displayName}
            </Link>
            {group.groupTypes?.includes('DynamicMembership') ? <Caption1>Dynamic</Caption1> : null}
            <Caption1>
              {(group.assignedLicenses ?? []).map((license) => skuName(catalog, license.skuId)).join(', ') ||
                'No licenses'}
            </Caption1>
          </>
        )}
      />
    </>
  );
}

function NewGroup() {
  const styles = useStyles();
  const { graph } = useSession();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const action = useAction();
  const create = () =>
    action.run(async () => {
      const nickname = name.replace(/[^A-Za-z0-9]/g, '').slice(0, 60) || 'group';
      const group = await graph.post<Group>('groups', {
        displayName: name,
        mailEnabled: false,
        mailNickname: nickname,
        securityEnabled: true,
      });
      setOpen(false);
      window.location.hash = href({ page: 'group', id: group.id });
    });
  return (
    <Dialog open={open} onOpenChange={(_e, data) => setOpen(data.open)}>
      <DialogTrigger disableButtonEnhancement>
        <Button appearance="primary">New group</Button>
      </DialogTrigger>
      <DialogSurface>
        <DialogBody>
          <DialogTitle>New security group</DialogTitle>
          <DialogContent className={styles.form}>
            <ErrorBar error={action.error} title="Couldn’t create the group" />
            <Field label="Name" required>
              <Input value={name} onChange={(_e, data) => setName(data.value)} />
            </Field>
          </DialogContent>
          <DialogActions>
            <DialogTrigger disableButtonEnhancement>
              <Button>Cancel</Button>
            </DialogTrigger>
            <Button appearance="primary" disabled={name.trim() === ''} onClick={() => void create()}>
              Create
            </Button>
          </DialogActions>
        </DialogBody>
      </DialogSurface>
    </Dialog>
  );
}
