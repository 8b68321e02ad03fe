/** The bank's payment page: plain server-rendered HTML, one form, no script. */
const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export interface PageOrder {
  bank: string;
  order_no: string;
  amount: string;
  status: string;
  subject: string;
  fail_code: string | null;
}

function layout(bankName: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(bankName)} · Online payment</title>
<style>
  body { margin: 0; font: 15px/1.5 system-ui, sans-serif; background: #f3f4f6; color: #1f2329; }
  header { background: #b91c1c; color: #fff; padding: 16px 24px; font-weight: 700; }
  main { max-width: 420px; margin: 24px auto; background: #fff; border-radius: 10px; padding: 24px; }
  .amount { font-size: 32px; font-weight: 700; } label { display: block; margin-top: 12px; color: #555; }
  input { width: 100%; box-sizing: border-box; padding: 10px; font-size: 16px; border: 1px solid #ccc; border-radius: 6px; }
  button { margin-top: 18px; width: 100%; padding: 12px; font-size: 16px; background: #b91c1c; color: #fff; border: 0; border-radius: 6px; }
  .error { color: #b91c1c; margin-top: 12px; }
</style></head>
<body><header>${escapeHtml(bankName)} — Online payment (simulator)</header><main>${body}</main></body></html>`;
}

function summary(o: PageOrder): string {
  return `<div>${escapeHtml(o.subject)}</div><div class="amount">¥${escapeHtml(o.amount)}</div>
<div>Order <span id="order-no">${escapeHtml(o.order_no)}</span> · Status <span id="status">${escapeHtml(o.status)}</span></div>`;
}

export function payPage(bankName: string, action: string, o: PageOrder, error?: string): string {
  if (o.status !== 'PROCESSING') return resultPage(bankName, o);
  return layout(
    bankName,
    `${summary(o)}
<form method="post" action="${escapeHtml(action)}">
  <label for="card_no">Card number</label><input id="card_no" name="card_no" inputmode="numeric" autocomplete="cc-number" required>
  <label for="password">Card password</label><input id="password" name="password" type="password" inputmode="numeric" required>
  <button type="submit">Pay</button>
</form>${error ? `<div class="error" role="alert">${escapeHtml(error)}</div>` : ''}`,
  );
}

export function resultPage(bankName: string, o: PageOrder): string {
  const note = o.status === 'SUCCESS' ? 'Payment successful.' : `Payment failed: ${o.fail_code ?? 'unknown'}.`;
  return layout(bankName, `${summary(o)}<p id="result">${escapeHtml(note)}</p>`);
}
