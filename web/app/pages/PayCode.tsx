/**
 * The payment code a till scans: a fresh code from `POST /payment-codes`, drawn as a QR code and
 * a CODE128 bar code (data URLs: the policy allows no inline style or script, and a canvas drawn
 * off the page needs neither), replaced by a new one before it expires and on a tap.
 */
import { Button } from 'antd-mobile';
import JsBarcode from 'jsbarcode';
import QRCode from 'qrcode';
import { useCallback, useEffect, useState } from 'react';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import type { PaymentCode } from '../types.ts';
import { errorText, FormError, SubPage } from '../ui.tsx';

/** A code is replaced this many seconds before it expires, and at least this often. */
const refreshMarginS = 10;
const refreshEveryMaxS = 60;

interface Drawn {
  code: string;
  qr: string;
  bar: string;
  refreshS: number;
}

async function draw(code: PaymentCode): Promise<Drawn> {
  const qr = await QRCode.toDataURL(code.payment_code, { margin: 1, width: 480, errorCorrectionLevel: 'M' });
  const canvas = document.createElement('canvas');
  JsBarcode(canvas, code.payment_code, { format: 'CODE128', displayValue: false, height: 90, margin: 0, width: 3 });
  const refreshS = Math.max(5, Math.min(refreshEveryMaxS, code.expires_in_s - refreshMarginS));
  return { code: code.payment_code, qr, bar: canvas.toDataURL('image/png'), refreshS };
}

export default function PayCode() {
  const t = useT();
  const [drawn, setDrawn] = useState<Drawn | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [left, setLeft] = useState(0);
  const [showDigits, setShowDigits] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const next = await draw(await api.post<PaymentCode>('/payment-codes'));
      setDrawn(next);
      setLeft(next.refreshS);
      setError(null);
    } catch (e) {
      setError(errorText(t, e));
    }
  }, [t]);

  useEffect(() => {
    refresh();
  }, [refresh]);

  useEffect(() => {
    if (!drawn) return;
    if (left <= 0) {
      refresh();
      return;
    }
    const timer = setTimeout(() => setLeft(left - 1), 1000);
    return () => clearTimeout(timer);
  }, [left, drawn, refresh]);

  return (
    <SubPage title={t('payCode.title')}>
      <section className="pay-code">
        <div className="pay-code-card">
          <p className="pay-code-hint">{t('payCode.hint')}</p>
          {drawn ? (
            <>
              <img className="barcode" id="barcode" src={drawn.bar} alt={t('payCode.barAlt', { code: '' }).trim()} />
              <button type="button" className="digits" onClick={() => setShowDigits(!showDigits)} id="digits">
                {showDigits ? drawn.code.replace(/(\d{4})(?=\d)/g, '$1 ') : t('payCode.digits')}
              </button>
              <img className="qr" id="qr" src={drawn.qr} alt={t('payCode.qrAlt')} data-code={drawn.code} />
              <div className="pay-code-foot">
                <span className="muted">{t('payCode.refreshesIn', { s: left })}</span>
                <Button size="small" fill="none" color="primary" onClick={refresh} data-testid="refresh">
                  {t('payCode.refresh')}
                </Button>
              </div>
            </>
          ) : (
            <div className="qr-placeholder" />
          )}
          <FormError text={error} />
        </div>
        <p className="warning">{t('payCode.warning')}</p>
      </section>
    </SubPage>
  );
}
