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

/**
 * A few of Ant Design's helpers write `<style>` elements without the ConfigProvider's nonce (the
 * modal's scroll lock and the scroll-bar measurement of rc-component), which the policy refuses.
 * Every style element a script of the page inserts through the DOM is given the nonce first; a
 * style arriving in markup (an injection into HTML) never passes here and stays refused.
 */
if (nonce !== undefined) {
  const withNonce = <N extends Node>(node: N): N => {
    if (node instanceof HTMLStyleElement && !node.nonce) node.nonce = nonce;
    return node;
  };
  const { appendChild, insertBefore } = Node.prototype;
  Node.prototype.appendChild = function <T extends Node>(this: Node, node: T): T {
    return appendChild.call(this, withNonce(node)) as T;
  };
  Node.prototype.insertBefore = function <T extends Node>(this: Node, node: T, child: Node | null): T {
    return insertBefore.call(this, withNonce(node), child) as T;
  };
}

/**
 * Ant Design's colours darkened where its defaults read below WCAG AA's 4.5:1 on white or on their
 * own tinted backgrounds (the primary blue, secondary text, the tags' words); axe-core checks it.
 */
const accessibleTokens = {
  colorPrimary: '#0958d9',
  colorInfo: '#0958d9',
  colorLink: '#0958d9',
  colorSuccess: '#237804',
  colorWarning: '#ad4e00',
  colorError: '#c41d1d',
  colorTextSecondary: '#4b5563',
  colorTextTertiary: '#5c6370',
  colorTextDescription: '#5c6370',
  colorTextPlaceholder: '#6b7280',
};

export function AntdRoot({ children }: { children: ReactNode }) {
  const { locale } = useLocale();
  return (
    <ConfigProvider
      locale={locale === 'zh' ? zhCN : enUS}
      csp={nonce === undefined ? undefined : { nonce }}
      // No motion: a colour caught mid-transition (a button enabled once the role is known) reads
      // as low contrast, to axe-core as to a person; the desk apps gain nothing from animation.
      theme={{ token: { ...accessibleTokens, motion: false } }}
    >
      <AntApp>{children}</AntApp>
    </ConfigProvider>
  );
}
