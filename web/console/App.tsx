/**
 * The operations console under `/console` (issue 17 §2): a login, then a side menu of the pages
 * the operator's roles open (the API refuses the rest anyway), each page its own chunk.
 */
import {
  AlertOutlined,
  AuditOutlined,
  BankOutlined,
  DashboardOutlined,
  FallOutlined,
  FundOutlined,
  SafetyOutlined,
  SwapOutlined,
  TeamOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { App as AntApp, Button, Layout, Menu, Result, Space, Spin, Tag, Typography } from 'antd';
import { lazy, type ReactNode, Suspense } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { useLocale } from '../shared/i18n.tsx';
import { allows, api, errorText, type Me, type Role, sessions, useLoad, useSessionToken } from './client.ts';
import { type Key, useT } from './messages.ts';
import { Login } from './pages/Login.tsx';

const Live = lazy(() => import('./pages/Live.tsx'));
const Disputes = lazy(() => import('./pages/Disputes.tsx'));
const Reconciliation = lazy(() => import('./pages/Reconciliation.tsx'));
const Reserves = lazy(() => import('./pages/Reserves.tsx'));
const LossRate = lazy(() => import('./pages/LossRate.tsx'));
const Risk = lazy(() => import('./pages/Risk.tsx'));
const Fund = lazy(() => import('./pages/Fund.tsx'));
const Members = lazy(() => import('./pages/Members.tsx'));
const Audit = lazy(() => import('./pages/Audit.tsx'));
const Operators = lazy(() => import('./pages/Operators.tsx'));

interface PageEntry {
  path: string;
  label: Key;
  icon: ReactNode;
  roles: readonly Role[] | 'anyone';
  element: ReactNode;
}

const pages: PageEntry[] = [
  { path: '/live', label: 'nav.live', icon: <DashboardOutlined />, roles: 'anyone', element: <Live /> },
  {
    path: '/disputes',
    label: 'nav.disputes',
    icon: <AlertOutlined />,
    roles: ['dispute_reviewer'],
    element: <Disputes />,
  },
  {
    path: '/reconciliation',
    label: 'nav.reconciliation',
    icon: <SwapOutlined />,
    roles: ['finance'],
    element: <Reconciliation />,
  },
  { path: '/reserves', label: 'nav.reserves', icon: <BankOutlined />, roles: ['finance'], element: <Reserves /> },
  { path: '/loss-rate', label: 'nav.lossRate', icon: <FallOutlined />, roles: ['finance'], element: <LossRate /> },
  { path: '/risk', label: 'nav.risk', icon: <SafetyOutlined />, roles: ['risk'], element: <Risk /> },
  { path: '/fund', label: 'nav.fund', icon: <FundOutlined />, roles: ['finance'], element: <Fund /> },
  { path: '/members', label: 'nav.members', icon: <UserOutlined />, roles: 'anyone', element: <Members /> },
  { path: '/audit', label: 'nav.audit', icon: <AuditOutlined />, roles: ['administrator'], element: <Audit /> },
  {
    path: '/operators',
    label: 'nav.operators',
    icon: <TeamOutlined />,
    roles: ['administrator'],
    element: <Operators />,
  },
];

export function App() {
  return (
    <BrowserRouter basename="/console">
      <Gate />
    </BrowserRouter>
  );
}

/** The login until there is a session; then the operator's pages. */
function Gate() {
  const token = useSessionToken();
  if (!token) return <Login />;
  return <Signed token={token} />;
}

function Signed({ token }: { token: string }) {
  const t = useT();
  const me = useLoad(() => api.get<Me>('/me'), [token]);
  if (me.error && !me.data) {
    return (
      <Result
        status="warning"
        title={errorText(t, me.error)}
        extra={
          <Button type="primary" onClick={() => sessions.set(null)}>
            {t('login.submit')}
          </Button>
        }
      />
    );
  }
  if (!me.data) return <Loading />;
  return <Shell me={me.data} />;
}

function Loading() {
  return (
    <div className="console-loading" role="status">
      <Spin />
    </div>
  );
}

function Shell({ me }: { me: Me }) {
  const t = useT();
  const { locale, setLocale } = useLocale();
  const { message } = AntApp.useApp();
  const navigate = useNavigate();
  const location = useLocation();
  const mine = pages.filter((p) => allows(me.roles, p.roles));
  const current = mine.find((p) => location.pathname.startsWith(p.path))?.path ?? mine[0]?.path ?? '/live';
  const logOut = async () => {
    try {
      await api.delete('/sessions');
    } catch (error) {
      message.error(errorText(t, error));
    }
    sessions.set(null);
  };
  return (
    <Layout className="console-shell">
      <Layout.Sider width={220} breakpoint="lg" collapsedWidth={0} theme="dark">
        <div className="console-brand">{t('app.name')}</div>
        <nav aria-label={t('app.name')}>
          <Menu
            theme="dark"
            mode="inline"
            selectedKeys={[current]}
            items={mine.map((p) => ({ key: p.path, icon: p.icon, label: t(p.label) }))}
            onClick={({ key }) => navigate(key)}
          />
        </nav>
      </Layout.Sider>
      <Layout>
        <Layout.Header className="console-header">
          <Space size="middle" wrap>
            <Typography.Text strong id="operator-name">
              {me.name}
            </Typography.Text>
            {me.roles.map((r) => (
              <Tag key={r} color="blue">
                {t(`role.${r}` as Key)}
              </Tag>
            ))}
          </Space>
          <Space>
            <Button id="lang-switch" onClick={() => setLocale(locale === 'zh' ? 'en' : 'zh')}>
              {t('lang.switch')}
            </Button>
            <Button id="logout" onClick={logOut}>
              {t('login.logout')}
            </Button>
          </Space>
        </Layout.Header>
        <Layout.Content className="console-content">
          <Suspense fallback={<Loading />}>
            <Routes>
              {mine.map((p) => (
                <Route key={p.path} path={`${p.path}/*`} element={p.element} />
              ))}
              <Route path="*" element={<Navigate to={mine[0]?.path ?? '/live'} replace />} />
            </Routes>
          </Suspense>
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
