/**
 * Scan to pay, by a photo of the QR code (taken with the phone's camera or chosen from the album,
 * decoded here in the browser by jsQR, loaded only when a photo is given) or by its content typed
 * or pasted: a Paybao cashier link (what `alipay.trade.precreate` answers as `qr_code`) opens the
 * cashier, where the buyer pays; anything else, a link to another site above all, is refused
 * rather than opened.
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

  function go(text = content) {
    const target = cashierTarget(text, window.location.origin);
    if (!target) return setError(t('scan.notPaybao'));
    window.location.assign(target);
  }

  async function fromPhoto(file: File | undefined) {
    if (!file) return;
    setError(null);
    const text = await decodeQr(file).catch(() => null);
    if (text === null) return setError(t('scan.noCode'));
    setContent(text);
    go(text);
  }

  return (
    <SubPage title={t('scan.title')}>
      <div className="scan-frame" aria-hidden>
        <span />
      </div>
      <label className="scan-photo" htmlFor="qr-photo">
        {t('scan.photo')}
        <input
          id="qr-photo"
          type="file"
          accept="image/*"
          capture="environment"
          onChange={(event) => void fromPhoto(event.target.files?.[0])}
        />
      </label>
      <Form
        layout="vertical"
        onFinish={() => go()}
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

/** The text of the QR code in a photo, or null when none is found. */
async function decodeQr(file: File): Promise<string | null> {
  const [{ default: jsQR }, bitmap] = await Promise.all([import('jsqr'), createImageBitmap(file)]);
  // A phone's photo is large: the code is found as well at a smaller size, and much faster.
  const scale = Math.min(1, maxDecodeSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) return null;
  context.drawImage(bitmap, 0, 0, width, height);
  const found = jsQR(context.getImageData(0, 0, width, height).data, width, height);
  return found?.data ?? null;
}

/** The longest side, in pixels, a photo is decoded at. */
const maxDecodeSide = 1024;
