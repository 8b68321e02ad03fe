/**
 * A trade the user paid (`GET /trades/{no}`). On an escrow trade the buyer confirms receipt, asks
 * for a refund, or asks Paybao to decide (a dispute) — each the API's own idempotent step.
 */
import { Button, Checkbox, Dialog, Form, Input, List, TextArea } from 'antd-mobile';
import { useState } from 'react';
import { useParams } from 'react-router';
import { formatTime, useLocale } from '../../shared/i18n.tsx';
import { amountInput, fromFen, toFen, yuan } from '../../shared/money.ts';
import { api } from '../client.ts';
import { type T, useT } from '../messages.ts';
import type { Dispute, RefundCase, Trade } from '../types.ts';
import { errorText, FormError, FormItem, Loading, SubPage, useLoad } from '../ui.tsx';

const word = (t: T, prefix: string, status: string) => t(`${prefix}.${status}` as Parameters<T>[0]);

export default function TradeDetail() {
  const t = useT();
  const { tradeNo = '' } = useParams();
  const trade = useLoad(() => api.get<Trade>(`/trades/${encodeURIComponent(tradeNo)}`), [tradeNo]);
  return (
    <SubPage title={t('trade.title')} back="/bills">
      <Loading loaded={trade}>{(tr) => <TradeView trade={tr} reload={trade.reload} />}</Loading>
    </SubPage>
  );
}

type Action = 'refund' | 'dispute' | null;

function TradeView({ trade, reload }: { trade: Trade; reload(): void }) {
  const t = useT();
  const { locale } = useLocale();
  const [action, setAction] = useState<Action>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const escrow = trade.escrow;
  const inEscrow = trade.status === 'WAIT_SELLER_SEND_GOODS' || trade.status === 'WAIT_BUYER_CONFIRM_GOODS';

  async function confirmReceipt() {
    const ok = await Dialog.confirm({
      title: t('trade.confirmReceipt'),
      content: t('trade.confirmReceiptBody'),
      confirmText: t('common.confirm'),
      cancelText: t('common.cancel'),
    });
    if (!ok) return;
    try {
      await api.post<Trade>(`/trades/${trade.trade_no}/confirm-receipt`);
      setNotice(t('trade.confirmed'));
      reload();
    } catch (e) {
      setError(errorText(t, e));
    }
  }

  return (
    <>
      <section className="amount-head">
        <div className="muted">{trade.subject}</div>
        <div className="big-amount" id="trade-amount">
          {yuan(trade.total_amount)}
        </div>
        <div className="status-word" id="trade-status">
          {word(t, 'trade', trade.status)}
        </div>
      </section>
      {escrow && inEscrow && <p className="escrow-note">{t('trade.escrow')}</p>}
      <List className="facts">
        {trade.refunded_amount !== '0.00' && (
          <List.Item extra={yuan(trade.refunded_amount)}>{t('trade.refunded')}</List.Item>
        )}
        <List.Item extra={<span className="nowrap">{trade.trade_no}</span>}>{t('trade.no')}</List.Item>
        <List.Item extra={formatTime(trade.created_at, locale)}>{t('trade.created')}</List.Item>
        {trade.paid_at && <List.Item extra={formatTime(trade.paid_at, locale)}>{t('trade.paid')}</List.Item>}
        {escrow?.logistics_no && (
          <List.Item extra={`${escrow.logistics_company ?? ''} ${escrow.logistics_no}`}>
            {t('trade.logistics')}
          </List.Item>
        )}
        {escrow?.confirm_deadline && inEscrow && (
          <List.Item extra={formatTime(escrow.confirm_deadline, locale)}>{t('trade.confirmBy')}</List.Item>
        )}
      </List>
      {notice && (
        <p className="notice" role="status" id="trade-notice">
          {notice}
        </p>
      )}
      <FormError text={error} />
      {escrow && (
        <div className="trade-actions">
          {trade.status === 'WAIT_BUYER_CONFIRM_GOODS' && !escrow.refund_request_open && (
            <Button block color="primary" size="large" onClick={confirmReceipt} data-testid="confirm-receipt">
              {t('trade.confirmReceipt')}
            </Button>
          )}
          {escrow.refund_request_open && <p className="muted center">{t('trade.refundOpen')}</p>}
          {inEscrow && !escrow.refund_request_open && (
            <Button block fill="outline" onClick={() => setAction('refund')} data-testid="request-refund">
              {t('trade.requestRefund')}
            </Button>
          )}
          {trade.status !== 'WAIT_BUYER_PAY' && trade.status !== 'TRADE_CLOSED' && (
            <Button block fill="none" color="primary" onClick={() => setAction('dispute')} data-testid="open-dispute">
              {t('trade.openDispute')}
            </Button>
          )}
        </div>
      )}
      {action && (
        <AfterSaleForm
          trade={trade}
          action={action}
          onDone={(text) => {
            setAction(null);
            setNotice(text);
            reload();
          }}
        />
      )}
    </>
  );
}

/** A refund request or a dispute: the amount, the reason (and whether the goods go back). */
function AfterSaleForm({
  trade,
  action,
  onDone,
}: {
  trade: Trade;
  action: 'refund' | 'dispute';
  onDone(text: string): void;
}) {
  const t = useT();
  const left = remaining(trade);
  const [amount, setAmount] = useState(left);
  const [reason, setReason] = useState('');
  const [needReturn, setNeedReturn] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const shipped = trade.status === 'WAIT_BUYER_CONFIRM_GOODS';

  async function submit() {
    const yuanAmount = amountInput(amount);
    if (!yuanAmount) return setError(t('error.amount_invalid'));
    setBusy(true);
    setError(null);
    try {
      if (action === 'refund') {
        const c = await api.post<RefundCase>(`/trades/${trade.trade_no}/refund-requests`, {
          amount: yuanAmount,
          reason: reason.trim(),
          ...(shipped ? { need_return: needReturn } : {}),
        });
        onDone(t('trade.caseCreated', { status: word(t, 'case', c.status) }));
      } else {
        const d = await api.post<Dispute>(`/trades/${trade.trade_no}/disputes`, {
          claim_amount: yuanAmount,
          reason: reason.trim(),
        });
        onDone(t('trade.disputeCreated', { status: word(t, 'dispute', d.status) }));
      }
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel after-sale">
      <h2>{action === 'refund' ? t('trade.requestRefund') : t('trade.openDispute')}</h2>
      <Form
        layout="vertical"
        onFinish={submit}
        footer={
          <Button block type="submit" color="primary" loading={busy} data-testid="after-sale-submit">
            {t('common.submit')}
          </Button>
        }
      >
        <FormItem label={action === 'refund' ? t('common.amount') : t('trade.claim')} htmlFor="after-sale-amount">
          <Input id="after-sale-amount" inputMode="decimal" value={amount} onChange={setAmount} />
        </FormItem>
        <FormItem label={t('trade.reason')} htmlFor="after-sale-reason">
          <TextArea
            id="after-sale-reason"
            rows={2}
            maxLength={512}
            placeholder={t('trade.reasonPlaceholder')}
            value={reason}
            onChange={setReason}
          />
        </FormItem>
        {action === 'refund' && shipped && (
          <FormItem>
            <Checkbox checked={needReturn} onChange={setNeedReturn} id="need-return">
              {t('trade.needReturn')}
            </Checkbox>
          </FormItem>
        )}
        <FormError text={error} />
      </Form>
    </section>
  );
}

/** What is left of the trade to refund. */
function remaining(trade: Trade): string {
  return fromFen(toFen(trade.total_amount) - toFen(trade.refunded_amount));
}
