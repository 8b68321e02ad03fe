/**
 * The merchant portal under `/merchant` (issue 17 §1): a login, then a frame with a side menu
 * (a drawer-like collapse below 992 px) around the pages, each its own chunk. The menu shows the
 * pages every role reads; the buttons that act are shown only to the roles that may use them,
 * and the API refuses the others anyway.
 */
import {
  AppstoreOutlined,
  AuditOutlined,
  BankOutlined,
  BellOutlined,
  DashboardOutlined,
  FileTextOutlined,
  LogoutOutlined,
  MenuOutlined,
  SafetyOutlined,
  TeamOutlined,
  TransactionOutlined,
} from '@ant-design/icons';
import { Button, Drawer, Grid, Layout, Menu, Result, Space, Spin, Typography } from 'antd';
import { lazy, type ReactNode, Suspense, useState } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { useLocale } from '../shared/i18n.tsx';
import { api, type Me, sessions, useSessionToken } from './client.ts';
import { useT } from './messages.ts';
import { Login } from './pages/Login.tsx';
import { Loading, MeContext, useLoad } from './ui.tsx';

const Dashboard = lazy(() => import('./pages/Dashboard.tsx'));
const Trades = lazy(() => import('./pages/Trades.tsx'));
const TradeDetail = lazy(() => import('./pages/TradeDetail.tsx'));
const AfterSale = lazy(() => import('./pages/AfterSale.tsx'));
const Bills = lazy(() => import('./pages/Bills.tsx'));
const Notifications = lazy(() => import('./pages/Notifications.tsx'));
const Apps = lazy(() => import('./pages/Apps.tsx'));
const Staff = lazy(() => import('./pages/Staff.tsx'));
const Settlement = lazy(() => import('./pages/Settlement.tsx'));
const Activity = lazy(() => import('./pages/Activity.tsx'));

export function App() {
  return (
    <BrowserRouter basename="/merchant">
      <Routes>
        <Route path="/login" element={<Login />} />
        <Route path="*" element={<Private />} />
      </Routes>
    </BrowserRouter>
  );
}

/** Everything behind the login: the member of staff first, then the frame and its pages. */
function Private() {
  const token = useSessionToken();
  const location = useLocation();
  if (!token) return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
  return <Signed token={token} />;
}

function Signed({ token }: { token: string }) {
  const me = useLoad(() => api.get<Me>('/me'), [token]);
  return (
    <Loading loaded={me}>
      {(data) => (
        <MeContext.Provider value={data}>
          <Frame me={data}>
            <Suspense fallback={<PageLoading />}>
              <Routes>
                <Route path="/" element={<Dashboard />} />
                <Route path="/trades" element={<Trades />} />
                <Route path="/trades/:tradeNo" element={<TradeDetail />} />
                <Route path="/after-sale" element={<AfterSale />} />
                <Route path="/bills" element={<Bills />} />
                <Route path="/notifications" element={<Notifications />} />
                <Route path="/apps" element={<Apps />} />
                <Route path="/staff" element={<Staff />} />
                <Route path="/settlement" element={<Settlement />} />
                <Route path="/activity" element={<Activity />} />
                <Route path="*" element={<NotFound />} />
              </Routes>
            </Suspense>
          </Frame>
        </MeContext.Provider>
      )}
    </Loading>
  );
}

function Frame({ me, children }: { me: Me; children: ReactNode }) {
  const t = useT();
  const navigate = useNavigate();
  const location = useLocation();
  const { locale, setLocale } = useLocale();
  // Below 992 px the menu is a drawer opened from the top bar, so that it never covers the page.
  const narrow = !Grid.useBreakpoint().lg;
  const [drawer, setDrawer] = useState(false);
  const items = [
    { key: '/', icon: <DashboardOutlined />, label: t('nav.dashboard') },
    { key: '/trades', icon: <TransactionOutlined />, label: t('nav.trades') },
    { key: '/after-sale', icon: <SafetyOutlined />, label: t('nav.afterSale') },
    { key: '/bills', icon: <FileTextOutlined />, label: t('nav.bills') },
    { key: '/notifications', icon: <BellOutlined />, label: t('nav.notifications') },
    { key: '/apps', icon: <AppstoreOutlined />, label: t('nav.apps') },
    { key: '/staff', icon: <TeamOutlined />, label: t('nav.staff') },
    { key: '/settlement', icon: <BankOutlined />, label: t('nav.settlement') },
    ...(me.permissions.includes('activity')
      ? [{ key: '/activity', icon: <AuditOutlined />, label: t('nav.activity') }]
      : []),
  ];
  const selected =
    items
      .map((i) => i.key)
      .filter((k) => (k === '/' ? location.pathname === '/' : location.pathname.startsWith(k)))
      .at(-1) ?? '/';
  const logout = async () => {
    await api.delete('/sessions/current').catch(() => undefined);
    sessions.set(null);
  };
  const menu = (
    <Menu
      theme="dark"
      mode="inline"
      selectedKeys={[selected]}
      items={items}
      onClick={({ key }) => {
        navigate(key);
        setDrawer(false);
      }}
    />
  );
  return (
    <Layout className="frame">
      {!narrow && (
        <Layout.Sider className="side" width={208}>
          <nav aria-label={t('nav.menu')}>
            <div className="brand">{t('app.name')}</div>
            {menu}
          </nav>
        </Layout.Sider>
      )}
      {narrow && (
        <Drawer
          open={drawer}
          onClose={() => setDrawer(false)}
          placement="left"
          size={240}
          title={t('app.name')}
          className="menu-drawer"
        >
          <nav aria-label={t('nav.menu')}>{menu}</nav>
        </Drawer>
      )}
      <Layout>
        <Layout.Header className="top">
          <Space size="small" className="merchant-name">
            {narrow && (
              <Button type="text" icon={<MenuOutlined />} onClick={() => setDrawer(true)} aria-label={t('nav.menu')} />
            )}
            <Typography.Text strong>{me.merchant_name}</Typography.Text>
          </Space>
          <Space size="small" wrap={false}>
            <Typography.Text className="who">
              {me.name} · {t(`role.${me.role}`)}
            </Typography.Text>
            <Button
              size="small"
              onClick={() => setLocale(locale === 'zh' ? 'en' : 'zh')}
              title={t('lang.label')}
              lang={locale === 'zh' ? 'en' : 'zh-CN'}
            >
              {t('lang.switch')}
            </Button>
            <Button size="small" icon={<LogoutOutlined />} onClick={logout} aria-label={t('common.logout')} />
          </Space>
        </Layout.Header>
        <Layout.Content className="content">
          <main>{children}</main>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}

function PageLoading() {
  return (
    <div className="loading" role="status">
      <Spin />
    </div>
  );
}

function NotFound() {
  const t = useT();
  return <Result status="404" title={t('notFound.title')} />;
}
