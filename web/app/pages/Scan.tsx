/**
 * Scan to pay, by the QR code's content typed or pasted: a Paybao cashier link (what
 * `alipay.trade.precreate` answers as `qr_code`) opens the cashier, where the buyer pays; anything
 * else, a link to another site above all, is refused rather than opened.
 */
import { Form, TextArea } from 'antd-mobile';
import { useState } from 'react';
import { useT } from '../messages.ts';
import { FormError, FormItem, Submit, SubPage } from '../ui.tsx';

/** The cashier page a QR's content names, when it is one of this Paybao's own; else null. */
export function cashierTarget(content: string, origin: string): string | null {
  let url: URL;
  try {
    url = new URL(content.trim());
  } catch {
    return null;
  }
  if (url.origin !== origin) return null;
  return /^\/cashier\/[0-9]{1,64}$/.test(url.pathname) ? url.pathname : null;
}

export default function Scan() {
  const t = useT();
  const [content, setContent] = useState('');
  const [error, setError] = useState<string | null>(null);

  function go() {
    const target = cashierTarget(content, window.location.origin);
    if (!target) return setError(t('scan.notPaybao'));
    window.location.assign(target);
  }

  return (
    <SubPage title={t('scan.title')}>
      <div className="scan-frame" aria-hidden>
        <span />
      </div>
      <Form
        layout="vertical"
        onFinish={go}
        footer={
          <Submit busy={false} testId="scan-go">
            {t('scan.go')}
          </Submit>
        }
      >
        <FormItem label={t('scan.hint')} htmlFor="qr-content" description={t('scan.cashier')}>
          <TextArea
            id="qr-content"
            rows={3}
            placeholder={t('scan.placeholder')}
            value={content}
            onChange={(v) => {
              setError(null);
              setContent(v);
            }}
          />
        </FormItem>
        <FormError text={error} />
      </Form>
    </SubPage>
  );
}
