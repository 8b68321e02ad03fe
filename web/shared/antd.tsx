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

export function AntdRoot({ children }: { children: ReactNode }) {
  const { locale } = useLocale();
  return (
    <ConfigProvider
      locale={locale === 'zh' ? zhCN : enUS}
      csp={nonce === undefined ? undefined : { nonce }}
      theme={{ token: { colorPrimary: '#1677ff' } }}
    >
      <AntApp>{children}</AntApp>
    </ConfigProvider>
  );
}
