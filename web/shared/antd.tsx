/**
 * Ant Design for the desk apps (the merchant portal and the console). Its styles are generated at
 * run time into `<style>` elements, which the apps' strict Content-Security-Policy admits only with
 * the nonce the server drew for this page (src/server/web-apps.ts hands it over in a `<meta>`).
 * The words follow the shared locale.
 */
import { App as AntApp, ConfigProvider } from 'antd';
import enUS from 'antd/es/locale/en_US';
import zhCN from 'antd/es/locale/zh_CN';
import type { ReactNode } from 'react';
import { useLocale } from './i18n.tsx';

const nonce = document.querySelector<HTMLMetaElement>('meta[name="paybao-style-nonce"]')?.content;

// Ant Design's own style elements carry the nonce (ConfigProvider's `csp`), but rc-component's
// scroll locker (an open Modal) and its scroll-bar measurement write theirs through a helper that
// takes no nonce, and the policy refuses them. Every style element this page's scripts create gets
// the response's nonce: a script that can create one is already trusted (`script-src 'self'`); the
// nonce keeps out style elements in injected markup, which this does not create.
if (nonce !== undefined) {
  const createElement = document.createElement.bind(document);
  document.createElement = ((tagName: string, options?: ElementCreationOptions) => {
    const element = createElement(tagName, options);
    if (element instanceof HTMLStyleElement) element.nonce = nonce;
    return element;
  }) as typeof document.createElement;
}

/**
 * Ant Design's blue, red and grey text fall short of WCAG AA's 4.5:1 on white (#1677ff is 4.0:1,
 * secondary text at 45% black 2.5:1): the desk apps take the next darker shades of its palette.
 */
const accessibleTokens = {
  colorPrimary: '#0958d9',
  colorLink: '#0958d9',
  colorError: '#cf1322',
  colorTextSecondary: 'rgba(0, 0, 0, 0.65)',
  colorTextDescription: 'rgba(0, 0, 0, 0.65)',
  colorTextPlaceholder: 'rgba(0, 0, 0, 0.55)',
};

export function AntdRoot({ children }: { children: ReactNode }) {
  const { locale } = useLocale();
  return (
    <ConfigProvider
      locale={locale === 'zh' ? zhCN : enUS}
      csp={nonce === undefined ? undefined : { nonce }}
      theme={{ token: accessibleTokens }}
    >
      <AntApp>{children}</AntApp>
    </ConfigProvider>
  );
}
