// Pieces every page uses: headings, refusals, loading, status badges, the usage bar and the paged, virtualized list.
import {
  Badge,
  Body1,
  Button,
  Caption1,
  Field,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  makeStyles,
  ProgressBar,
  SearchBox,
  Spinner,
  Title2,
  tokens,
} from '@fluentui/react-components';
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, type Page } from './api.js';
import { useSession } from './session.js';

const useStyles = makeStyles({
  header: {
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalM,
    marginBottom: tokens.spacingVerticalM,
  },
  grow: { flexGrow: 1 },
  list: {
    overflowY: 'auto',
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
    position: 'relative',
  },
  row: {
    position: 'absolute',
    left: 0,
    right: 0,
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalM,
    paddingLeft: tokens.spacingHorizontalM,
    paddingRight: tokens.spacingHorizontalM,
    borderBottom: `1px solid ${tokens.colorNeutralStroke3}`,
    boxSizing: 'border-box',
  },
  rows: { listStyleType: 'none', margin: 0, padding: 0, position: 'relative' },
  footer: {
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalS,
    marginTop: tokens.spacingVerticalXS,
  },
  usage: { minWidth: '120px' },
});

export function PageHeader(props: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
  const styles = useStyles();
  return (
    <div className={styles.header}>
      <div className={styles.grow}>
        <Title2 as="h1">{props.title}</Title2>
        {props.subtitle ? (
          <div>
            <Body1>{props.subtitle}</Body1>
          </div>
        ) : null}
      </div>
      {props.actions}
    </div>
  );
}

/** A refusal as the API worded it, with its code. */
export function ErrorBar(props: { error: unknown; title?: string }) {
  if (!props.error) return null;
  const error = props.error;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? ` (${error.code})` : '';
  return (
    <MessageBar intent="error" role="alert">
      <MessageBarBody>
        <MessageBarTitle>{props.title ?? 'Something went wrong'}</MessageBarTitle>
        {message}
        {code}
      </MessageBarBody>
    </MessageBar>
  );
}

/** The search box of the long lists: Graph's `startswith(displayName,…)`. */
export function SearchByName(props: { value: string; onChange(value: string): void }) {
  return (
    <Field label="Search by name">
      <SearchBox
        value={props.value}
        onChange={(_e, data) => props.onChange(data.value)}
        placeholder="Name starts with…"
      />
    </Field>
  );
}

export function Loading(props: { label?: string }) {
  return <Spinner size="small" label={props.label ?? 'Loading…'} />;
}

/** The admin center's three group states. */
export function GroupStatus(props: {
  status: string | undefined;
  processed?: number;
  total?: number;
  failed?: number;
}) {
  switch (props.status) {
    case 'allLicensesAssigned':
      return (
        <Badge appearance="tint" color="success">
          All licenses assigned
        </Badge>
      );
    case 'inProgress':
      return (
        <Badge appearance="tint" color="informative">
          In progress
        </Badge>
      );
    case 'errorsAndIssues':
      return (
        <Badge appearance="tint" color="danger">
          Errors &amp; issues{props.failed ? ` (${props.failed})` : ''}
        </Badge>
      );
    default:
      return <Badge appearance="outline">—</Badge>;
  }
}

export function Progress(props: { done: number; total: number; label: string }) {
  const value = props.total === 0 ? 1 : Math.min(1, props.done / props.total);
  return (
    <div>
      <ProgressBar value={value} thickness="large" aria-label={props.label} />
      <Caption1>
        {props.done.toLocaleString()} of {props.total.toLocaleString()} members processed
      </Caption1>
    </div>
  );
}

export function UsageBar(props: { used: number; total: number; label: string }) {
  const styles = useStyles();
  const value = props.total === 0 ? (props.used > 0 ? 1 : 0) : Math.min(1, props.used / props.total);
  return (
    <div className={styles.usage}>
      <ProgressBar
        value={value}
        color={value >= 1 ? 'error' : value >= 0.9 ? 'warning' : 'brand'}
        aria-label={props.label}
      />
    </div>
  );
}

export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

export interface PagedList<T> {
  readonly items: readonly T[];
  readonly hasMore: boolean;
  /** `@odata.count` when the API sends it. */
  readonly count: number | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  loadMore(): void;
  reload(): void;
}

/** A list read page by page through `@odata.nextLink`; the next page is read when the list is scrolled near its end. */
export function usePagedList<T>(firstPage: string | undefined): PagedList<T> {
  const { graph } = useSession();
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [count, setCount] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  const current = useRef(0);

  const load = useCallback(
    async (url: string, replace: boolean) => {
      const call = replace ? ++current.current : current.current;
      setLoading(true);
      try {
        const page = await graph.get<Page<T>>(url);
        if (call !== current.current) return;
        setItems((before) => (replace ? [...page.value] : [...before, ...page.value]));
        setNext(page['@odata.nextLink']);
        if (page['@odata.count'] !== undefined) setCount(page['@odata.count']);
        setError(undefined);
      } catch (caught) {
        if (call === current.current) setError(caught);
      } finally {
        if (call === current.current) setLoading(false);
      }
    },
    [graph],
  );

  useEffect(() => {
    setItems([]);
    setNext(undefined);
    setCount(undefined);
    if (firstPage) void load(firstPage, true);
  }, [firstPage, load]);

  const loadMore = useCallback(() => {
    if (next && !loading) void load(next, false);
  }, [next, loading, load]);
  const reload = useCallback(() => {
    if (firstPage) void load(firstPage, true);
  }, [firstPage, load]);
  return { items, hasMore: next !== undefined, count, error, loading, loadMore, reload };
}

const OVERSCAN = 6;

/**
 * Only the rows in view (and a few around them) are in the page, however long the list; reaching the end asks for
 * the next page. Rows are of one height so the scroll position maps to a row without measuring.
 */
export function VirtualList<T>(props: {
  /** The list as `usePagedList` reads it. */
  source: PagedList<T>;
  rowHeight: number;
  height: number;
  label: string;
  empty: string;
  renderRow(item: T, index: number): ReactNode;
  rowKey(item: T): string;
}) {
  const styles = useStyles();
  const [scrollTop, setScrollTop] = useState(0);
  const { rowHeight, height } = props;
  const { items, hasMore, loading, loadMore, count, error } = props.source;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  useEffect(() => {
    if (hasMore && !loading && last >= items.length - OVERSCAN) loadMore();
  }, [hasMore, loading, last, items.length, loadMore]);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i] as T;
    rows.push(
      <li
        key={props.rowKey(item)}
        aria-setsize={count ?? (hasMore ? -1 : items.length)}
        aria-posinset={i + 1}
        className={styles.row}
        style={{ top: i * rowHeight, height: rowHeight }}
      >
        {props.renderRow(item, i)}
      </li>,
    );
  }
  return (
    <div>
      <ErrorBar error={error} />
      <div
        className={styles.list}
        style={{ height: Math.min(height, Math.max(rowHeight, items.length * rowHeight) + 2) }}
        onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
      >
        <ul aria-label={props.label} className={styles.rows} style={{ height: items.length * rowHeight }}>
          {rows}
        </ul>
      </div>
      <div className={styles.footer}>
        <Caption1>
          {items.length === 0 && !loading
            ? props.empty
            : `${items.length.toLocaleString()}${count !== undefined ? ` of ${count.toLocaleString()}` : hasMore ? '+' : ''} shown`}
        </Caption1>
        {loading ? <Spinner size="tiny" /> : null}
        {hasMore && !loading ? (
          <Button size="small" appearance="subtle" onClick={loadMore}>
            Load more
          </Button>
        ) : null}
      </div>
    </div>
  );
}
