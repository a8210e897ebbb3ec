// The audit log, newest first, filtered by activity and by date (Graph's directoryAudits and its $filter).
import { Caption1, Field, Input, makeStyles, Select, Text, tokens } from '@fluentui/react-components';
import { useState } from 'react';
import { type DirectoryAudit, odataString } from '../api.js';
import { PageHeader, usePagedList, VirtualList, when } from '../ui.js';

const useStyles = makeStyles({
  filters: {
    display: 'flex',
    gap: tokens.spacingHorizontalM,
    flexWrap: 'wrap',
    marginBottom: tokens.spacingVerticalM,
  },
  time: { width: '180px', flexShrink: 0 },
  activity: { width: '300px', flexShrink: 0 },
  target: { flexGrow: 1, minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' },
});

/** The activities this service records (src/application). */
const ACTIVITIES = [
  'Set group license',
  'Start applying group based license to users',
  'Finish applying group based license to users',
  'Apply group based license to users failed',
  'Change user license',
  'Add a member',
  'Remove a member',
  'Update group',
  'Delete user',
  'Hard delete user',
  'Restore user',
];

export function AuditPage() {
  const styles = useStyles();
  const [activity, setActivity] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const clauses = [
    activity ? `activityDisplayName eq ${odataString(activity)}` : '',
    from ? `activityDateTime ge ${new Date(`${from}T00:00:00`).toISOString()}` : '',
    to
      ? `activityDateTime lt ${new Date(new Date(`${to}T00:00:00`).getTime() + 86_400_000).toISOString()}`
      : '',
  ].filter((c) => c !== '');
  const list = usePagedList<DirectoryAudit>(
    `auditLogs/directoryAudits?$top=100${clauses.length ? `&$filter=${encodeURIComponent(clauses.join(' and '))}` : ''}`,
  );
  return (
    <>
      <PageHeader title="Audit log" subtitle="Newest first." />
      <div className={styles.filters}>
        <Field label="Activity">
          <Select value={activity} onChange={(_e, data) => setActivity(data.value)}>
            <option value="">All activities</option>
            {ACTIVITIES.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </Select>
        </Field>
        <Field label="From">
          <Input type="date" value={from} onChange={(_e, data) => setFrom(data.value)} />
        </Field>
        <Field label="To">
          <Input type="date" value={to} onChange={(_e, data) => setTo(data.value)} />
        </Field>
      </div>
      <VirtualList
        source={list}
        rowHeight={44}
        height={600}
        label="Audit records"
        empty="No records match."
        rowKey={(record) => record.id}
        renderRow={(record) => (
          <>
            <Caption1 className={styles.time}>{when(record.activityDateTime)}</Caption1>
            <Text className={styles.activity}>{record.activityDisplayName}</Text>
            <Caption1 className={styles.target}>
              {record.targetResources.map((t) => `${t.type}: ${t.displayName ?? t.id}`).join(' · ')}
              {record.result === 'failure' ? ` — failed: ${record.resultReason}` : ''}
            </Caption1>
          </>
        )}
      />
    </>
  );
}
