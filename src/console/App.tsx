// The console's frame: sign-in first, then the admin center's layout — navigation on the left, the page on the right.
import { Button, Caption1, makeStyles, Tab, TabList, Text, Title3, tokens } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import { AlertsPage } from './pages/alerts.js';
import { AuditPage } from './pages/audit.js';
import { ErrorsPage } from './pages/errors.js';
import { GroupPage } from './pages/group.js';
import { GroupsPage } from './pages/groups.js';
import { PrincipalPage } from './pages/principal.js';
import { PrincipalsPage } from './pages/principals.js';
import { ProductPage } from './pages/product.js';
import { ProductsPage } from './pages/products.js';
import { SignInPage } from './pages/sign-in.js';
import { type Route, useRoute } from './route.js';
import { openSession, type Session, SessionContext, signOut, storedSignIn, storeSignIn } from './session.js';
import { ErrorBar, Loading } from './ui.js';

const useStyles = makeStyles({
  frame: {
    display: 'flex',
    flexDirection: 'column',
    minHeight: '100vh',
    backgroundColor: tokens.colorNeutralBackground2,
  },
  bar: {
    display: 'flex',
    alignItems: 'center',
    gap: tokens.spacingHorizontalL,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalL}`,
    backgroundColor: tokens.colorBrandBackground,
    color: tokens.colorNeutralForegroundOnBrand,
  },
  grow: { flexGrow: 1 },
  body: { display: 'flex', flexGrow: 1 },
  nav: {
    width: '220px',
    flexShrink: 0,
    paddingTop: tokens.spacingVerticalM,
    backgroundColor: tokens.colorNeutralBackground1,
    borderRight: `1px solid ${tokens.colorNeutralStroke2}`,
  },
  main: { flexGrow: 1, padding: tokens.spacingHorizontalXXL, minWidth: 0 },
});

/** Which navigation entry a page belongs to. */
function section(route: Route): string {
  switch (route.page) {
    case 'product':
      return 'products';
    case 'group':
      return 'groups';
    case 'user':
      return 'users';
    case 'device':
      return 'devices';
    default:
      return route.page;
  }
}

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.page) {
    case 'products':
      return <ProductsPage />;
    case 'product':
      return <ProductPage skuId={route.skuId} />;
    case 'groups':
      return <GroupsPage />;
    case 'group':
      return <GroupPage id={route.id} />;
    case 'users':
      return <PrincipalsPage kind="user" />;
    case 'devices':
      return <PrincipalsPage kind="device" />;
    case 'user':
      return <PrincipalPage kind="user" id={route.id} />;
    case 'device':
      return <PrincipalPage kind="device" id={route.id} />;
    case 'errors':
      return <ErrorsPage />;
    case 'audit':
      return <AuditPage />;
    case 'alerts':
      return <AlertsPage />;
  }
}

export function App() {
  const styles = useStyles();
  const route = useRoute();
  const [session, setSession] = useState<Session>();
  const [error, setError] = useState<unknown>();
  const [restoring, setRestoring] = useState(() => storedSignIn()?.tenant !== undefined);

  // A reload keeps the sign-in of this tab.
  useEffect(() => {
    const stored = storedSignIn();
    if (!stored?.tenant) return;
    openSession(stored.key, stored.tenant)
      .then(setSession, (caught: unknown) => {
        signOut();
        setError(caught);
      })
      .finally(() => setRestoring(false));
  }, []);

  if (restoring) return <Loading label="Signing in…" />;
  if (!session) {
    return (
      <div className={styles.frame}>
        <header className={styles.bar}>
          <Title3 as="h1">Licenses</Title3>
        </header>
        <main className={styles.main}>
          <ErrorBar error={error} title="Sign-in failed" />
          <SignInPage
            onSignedIn={async (key, tenant) => {
              const opened = await openSession(key, tenant);
              storeSignIn(key, tenant);
              setSession(opened);
              window.location.hash = '#/products';
            }}
          />
        </main>
      </div>
    );
  }
  const current = section(route);
  return (
    <SessionContext.Provider value={session}>
      <div className={styles.frame}>
        <header className={styles.bar}>
          <Title3 as="span">Licenses</Title3>
          <Text className={styles.grow}>
            {session.tenant.displayName} <Caption1>({session.tenant.id})</Caption1>
          </Text>
          <Button
            appearance="primary"
            onClick={() => {
              signOut();
              setSession(undefined);
            }}
          >
            Switch tenant
          </Button>
        </header>
        <div className={styles.body}>
          <nav className={styles.nav} aria-label="Licenses">
            <TabList
              vertical
              selectedValue={current}
              onTabSelect={(_event, data) => {
                window.location.hash = `#/${String(data.value)}`;
              }}
            >
              <Tab value="products">All products</Tab>
              <Tab value="groups">Groups</Tab>
              <Tab value="users">Users</Tab>
              <Tab value="devices">Devices</Tab>
              <Tab value="errors">Errors &amp; waiting</Tab>
              <Tab value="audit">Audit log</Tab>
              <Tab value="alerts">Alerts</Tab>
            </TabList>
          </nav>
          <main className={styles.main}>
            <Page route={route} />
          </main>
        </div>
      </div>
    </SessionContext.Provider>
  );
}
