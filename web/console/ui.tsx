/** What the console's pages share: a page's head, a refusal shown in words, amounts and times. */
import { Alert, Badge, Typography } from 'antd';
import type { ReactNode } from 'react';
import { formatTime, useLocale } from '../shared/i18n.tsx';
import { yuan } from '../shared/money.ts';
import { errorText } from './client.ts';
import { useT } from './messages.ts';

export function PageHead({ title, subtitle, extra }: { title: string; subtitle?: string; extra?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <Typography.Title level={1}>{title}</Typography.Title>
        {subtitle ? <Typography.Text type="secondary">{subtitle}</Typography.Text> : null}
      </div>
      {extra}
    </div>
  );
}

/** A load's refusal, in words, above the page's content. */
export function LoadError({ error }: { error: unknown }) {
  const t = useT();
  if (!error) return null;
  return <Alert type="error" showIcon title={errorText(t, error)} style={{ marginBottom: 16 }} />;
}

export function Money({ amount }: { amount: string | null | undefined }) {
  if (amount === null || amount === undefined) return <span>—</span>;
  return <span className="nowrap">{yuan(amount)}</span>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  const { locale } = useLocale();
  if (!iso) return <span>—</span>;
  return <span className="nowrap">{formatTime(iso, locale)}</span>;
}

/**
 * A status in words with a coloured dot: the words keep the text colour (Ant Design's coloured
 * tags put orange or green text on a pale ground, under AA contrast).
 */
export function Status({
  tone,
  children,
  testId,
}: {
  tone: 'success' | 'warning' | 'error' | 'processing' | 'default';
  children: ReactNode;
  testId?: string;
}) {
  return (
    <span className="nowrap" data-testid={testId}>
      <Badge status={tone} text={children} />
    </span>
  );
}
