/**
 * Money between the wallet and a bank card: the top-up and withdrawal forms share the amount, the
 * choice of card, one Idempotency-Key per intent, and the order's result, asked again while the
 * bank is still working (`GET /channel-orders/{no}`).
 */
import { Form, Radio, Result, Space } from 'antd-mobile';
import { type ReactNode, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { newIdempotencyKey } from '../../shared/api.ts';
import { amountInput, yuan } from '../../shared/money.ts';
import { api } from '../client.ts';
import { type T, useT } from '../messages.ts';
import type { Card, ChannelOrder } from '../types.ts';
import {
  AmountItem,
  type ChallengeAnswer,
  errorText,
  FormError,
  FormItem,
  Loading,
  Submit,
  SubPage,
  useChallenge,
  useLoad,
} from '../ui.tsx';

const pollEveryMs = 1000;
const pollTimesMax = 20;
const finished = new Set(['SUCCESS', 'FAILED']);

export interface OrderFormProps {
  title: string;
  submitText: string;
  /** The label of the choice of card: where the money comes from, or goes. */
  methodLabel: string;
  doneText: string;
  /** The choices of where the money goes or comes from besides the cards ("the bank's page"). */
  extraMethods?: { value: string; label: string }[];
  /** Sends the order; `method` is a card id or one of the extra methods. */
  send(
    input: { amount: string; method: string; idempotencyKey: string },
    answer?: ChallengeAnswer,
  ): Promise<ChannelOrder>;
  noCards: ReactNode;
}

export function OrderForm(props: OrderFormProps) {
  const t = useT();
  const cards = useLoad(() => api.get<{ data: Card[] }>('/cards'), []);
  const [amount, setAmount] = useState('');
  const [method, setMethod] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [order, setOrder] = useState<ChannelOrder | null>(null);
  const key = useRef<string | null>(null);
  const challenge = useChallenge();
  usePolling(order, setOrder);

  async function submit(chosen: string) {
    const yuanAmount = amountInput(amount);
    if (!yuanAmount) return setError(t('error.amount_invalid'));
    key.current ??= newIdempotencyKey();
    const idempotencyKey = key.current;
    setBusy(true);
    setError(null);
    try {
      const placed = await challenge.run((answer) =>
        props.send({ amount: yuanAmount, method: chosen, idempotencyKey }, answer),
      );
      if (placed.pay_url && placed.status === 'IN_FLIGHT') {
        window.location.assign(placed.pay_url);
        return;
      }
      key.current = null;
      setOrder(placed);
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  }

  if (order) return <OrderResult title={props.title} order={order} doneText={props.doneText} />;
  return (
    <SubPage title={props.title}>
      <Loading loaded={cards}>
        {({ data }) => {
          const active = data.filter((c) => c.status === 'ACTIVE');
          const methods = [
            ...active.map((c) => ({ value: c.card_id, label: `${c.bank} •••• ${c.card_no.slice(-4)}` })),
            ...(props.extraMethods ?? []),
          ];
          if (methods.length === 0) return <div className="empty-block">{props.noCards}</div>;
          const chosen = method ?? methods[0]?.value ?? '';
          return (
            <Form
              layout="vertical"
              onFinish={() => submit(chosen)}
              footer={
                <Submit busy={busy} testId="order-submit">
                  {props.submitText}
                </Submit>
              }
            >
              <FormItem label={props.methodLabel}>
                <Radio.Group
                  value={chosen}
                  onChange={(v) => {
                    key.current = null;
                    setMethod(String(v));
                  }}
                >
                  <Space direction="vertical" block>
                    {methods.map((m) => (
                      <Radio key={m.value} value={m.value} id={`method-${m.value}`}>
                        {m.label}
                      </Radio>
                    ))}
                  </Space>
                </Radio.Group>
              </FormItem>
              <AmountItem
                value={amount}
                onChange={(v) => {
                  key.current = null;
                  setAmount(v);
                }}
              />
              <FormError text={error} />
            </Form>
          );
        }}
      </Loading>
      {challenge.dialog}
    </SubPage>
  );
}

/** Asks again for an order the bank has not finished, a bounded number of times. */
function usePolling(order: ChannelOrder | null, setOrder: (o: ChannelOrder) => void) {
  const asked = useRef(0);
  useEffect(() => {
    if (!order || finished.has(order.status) || asked.current >= pollTimesMax) return;
    const timer = setTimeout(async () => {
      asked.current += 1;
      try {
        setOrder(await api.get<ChannelOrder>(`/channel-orders/${encodeURIComponent(order.order_no)}`));
      } catch {
        // Asked again at the next turn; the order itself is safe whatever this answer was.
      }
    }, pollEveryMs);
    return () => clearTimeout(timer);
  }, [order, setOrder]);
}

export function orderWord(t: T, status: string): string {
  return t(`order.${status}` as Parameters<T>[0]);
}

function OrderResult({ title, order, doneText }: { title: string; order: ChannelOrder; doneText: string }) {
  const t = useT();
  const status = order.status === 'SUCCESS' ? 'success' : order.status === 'FAILED' ? 'error' : 'waiting';
  return (
    <SubPage title={title}>
      <Result
        status={status}
        title={order.status === 'SUCCESS' ? doneText : orderWord(t, order.status)}
        description={yuan(order.amount)}
      />
      <dl className="facts-list">
        <dt>{t('order.status')}</dt>
        <dd id="order-status" data-status={order.status}>
          {orderWord(t, order.status)}
        </dd>
        <dt>{t('order.no')}</dt>
        <dd className="nowrap" id="order-no">
          {order.order_no}
        </dd>
      </dl>
      <div className="result-actions">
        <Link className="button-link" to="/" id="back-home">
          {t('order.back')}
        </Link>
      </div>
    </SubPage>
  );
}
