/**
 * The wallet app's routes under `/app`. The home page comes with the first script; every other
 * page is its own chunk, loaded when it is first shown (the first page stays small). A page that
 * needs a session sends the user to the login and back.
 */
import { ConfigProvider, DotLoading } from 'antd-mobile';
import enUS from 'antd-mobile/es/locales/en-US';
import zhCN from 'antd-mobile/es/locales/zh-CN';
import { BillOutline, AppOutline as HomeIcon, UserOutline } from 'antd-mobile-icons';
import { lazy, type ReactNode, Suspense } from 'react';
import { BrowserRouter, Navigate, NavLink, Route, Routes, useLocation } from 'react-router';
import { LocaleProvider, useLocale } from '../shared/i18n.tsx';
import { useSessionToken } from './client.ts';
import { useT } from './messages.ts';
import { Home } from './pages/Home.tsx';
import { Login } from './pages/Login.tsx';

const Bills = lazy(() => import('./pages/Bills.tsx'));
const BillDetail = lazy(() => import('./pages/BillDetail.tsx'));
const PayCode = lazy(() => import('./pages/PayCode.tsx'));
const Scan = lazy(() => import('./pages/Scan.tsx'));
const Transfer = lazy(() => import('./pages/Transfer.tsx'));
const Cards = lazy(() => import('./pages/Cards.tsx'));
const CardNew = lazy(() => import('./pages/CardNew.tsx'));
const TopUp = lazy(() => import('./pages/TopUp.tsx'));
const Withdraw = lazy(() => import('./pages/Withdraw.tsx'));
const TradeDetail = lazy(() => import('./pages/TradeDetail.tsx'));
const Trades = lazy(() => import('./pages/Trades.tsx'));
const Me = lazy(() => import('./pages/Me.tsx'));

export function App() {
  return (
    <LocaleProvider>
      <Localized>
        <BrowserRouter basename="/app">
          <Suspense fallback={<PageLoading />}>
            <Routes>
              <Route path="/login" element={<Login />} />
              <Route path="/" element={<Tabbed page={<Home />} />} />
              <Route path="/bills" element={<Tabbed page={<Bills />} />} />
              <Route path="/me" element={<Tabbed page={<Me />} />} />
              <Route path="/bills/:id" element={<Private page={<BillDetail />} />} />
              <Route path="/pay-code" element={<Private page={<PayCode />} />} />
              <Route path="/scan" element={<Private page={<Scan />} />} />
              <Route path="/transfer" element={<Private page={<Transfer />} />} />
              <Route path="/cards" element={<Private page={<Cards />} />} />
              <Route path="/cards/new" element={<Private page={<CardNew />} />} />
              <Route path="/top-up" element={<Private page={<TopUp />} />} />
              <Route path="/withdraw" element={<Private page={<Withdraw />} />} />
              <Route path="/trades" element={<Private page={<Trades />} />} />
              <Route path="/trades/:tradeNo" element={<Private page={<TradeDetail />} />} />
              <Route path="*" element={<Navigate to="/" replace />} />
            </Routes>
          </Suspense>
        </BrowserRouter>
      </Localized>
    </LocaleProvider>
  );
}

/** antd-mobile's own words (pickers, dialogs) in the chosen language. */
function Localized({ children }: { children: ReactNode }) {
  const { locale } = useLocale();
  return <ConfigProvider locale={locale === 'zh' ? zhCN : enUS}>{children}</ConfigProvider>;
}

function PageLoading() {
  return (
    <div className="loading page-loading" role="status">
      <DotLoading color="primary" />
    </div>
  );
}

/** A page for the logged-in user only: the login first, then back here. */
function Private({ page }: { page: ReactNode }) {
  const token = useSessionToken();
  const location = useLocation();
  if (!token) return <Navigate to="/login" replace state={{ from: `${location.pathname}${location.search}` }} />;
  return <>{page}</>;
}

/** One of the three main pages, with the tab bar below (links: each tab is a place of its own). */
function Tabbed({ page }: { page: ReactNode }) {
  const t = useT();
  const tabs = [
    { to: '/', title: t('nav.home'), icon: <HomeIcon aria-hidden /> },
    { to: '/bills', title: t('nav.bills'), icon: <BillOutline aria-hidden /> },
    { to: '/me', title: t('nav.me'), icon: <UserOutline aria-hidden /> },
  ];
  return (
    <Private
      page={
        <div className="tabbed">
          <div className="tabbed-page">{page}</div>
          <nav className="tab-bar" aria-label="Paybao">
            {tabs.map((tab) => (
              <NavLink key={tab.to} to={tab.to} end className={({ isActive }) => (isActive ? 'tab active' : 'tab')}>
                {tab.icon}
                <span>{tab.title}</span>
              </NavLink>
            ))}
          </nav>
        </div>
      }
    />
  );
}
