/** One trade: its facts, refund and ship (for the roles that may), every move, refund, notification, case and dispute. */
import { ArrowLeftOutlined } from '@ant-design/icons';
import {
  App as AntApp,
  Button,
  Card,
  Descriptions,
  Form,
  Input,
  Modal,
  Space,
  Table,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { amountInput, fromFen, toFen, yuan } from '../../shared/money.ts';
import { api, type TradeDetail as Detail, type Notification, type Trade } from '../client.ts';
import { useT } from '../messages.ts';
import {
  actorText,
  errorText,
  Loading,
  newRequestNo,
  Scrollable,
  StatusTag,
  tagColours,
  useLoad,
  useMay,
  useTime,
} from '../ui.tsx';
import { CasesTable, DisputesTable } from './answers.tsx';
import { NotificationsTable } from './Notifications.tsx';

export default function TradeDetail() {
  const t = useT();
  const time = useTime();
  const may = useMay();
  const { tradeNo = '' } = useParams();
  const detail = useLoad(() => api.get<Detail>(`/trades/${encodeURIComponent(tradeNo)}`), [tradeNo]);
  return (
    <>
      <Space style={{ marginBottom: 8 }}>
        <Link to="/trades">
          <ArrowLeftOutlined /> {t('detail.back')}
        </Link>
      </Space>
      <Typography.Title level={2} className="page-title">
        {t('detail.title', { no: '' })}
        <span className="mono" style={{ fontSize: 16 }}>
          {tradeNo}
        </span>
      </Typography.Title>
      <Loading loaded={detail}>
        {(d) => (
          <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
            <Card
              size="small"
              extra={
                <Space wrap>
                  {may('refund') && refundableFen(d.trade) > 0n && (
                    <RefundButton trade={d.trade} onDone={detail.reload} />
                  )}
                  {may('answer') && d.trade.status === 'WAIT_SELLER_SEND_GOODS' && (
                    <ShipButton trade={d.trade} onDone={detail.reload} />
                  )}
                </Space>
              }
              title={<StatusTag kind="trade" status={d.trade.status} />}
            >
              <Descriptions size="small" column={{ xs: 1, sm: 1, md: 2, xl: 3 }} bordered>
                <Descriptions.Item label={t('trades.outTradeNo')}>{d.trade.out_trade_no}</Descriptions.Item>
                <Descriptions.Item label={t('trades.subject')}>{d.trade.subject}</Descriptions.Item>
                <Descriptions.Item label={t('trades.amount')}>
                  <span className="nowrap">{yuan(d.trade.total_amount)}</span>
                </Descriptions.Item>
                <Descriptions.Item label={t('trades.refunded')}>
                  <span className="nowrap">{yuan(d.trade.refunded_amount)}</span>
                </Descriptions.Item>
                <Descriptions.Item label={t('detail.buyer')}>{d.trade.buyer_logon_id ?? '—'}</Descriptions.Item>
                <Descriptions.Item label={t('trades.app')}>
                  <span className="mono">{d.trade.app_id}</span>
                </Descriptions.Item>
                <Descriptions.Item label={t('trades.created')}>{time(d.trade.created_at)}</Descriptions.Item>
                <Descriptions.Item label={t('trades.paid')}>{time(d.trade.paid_at)}</Descriptions.Item>
                {d.trade.closed_at && (
                  <Descriptions.Item label={t('detail.closed')}>{time(d.trade.closed_at)}</Descriptions.Item>
                )}
                {d.trade.escrow && (
                  <>
                    <Descriptions.Item label={t('detail.escrow')}>{t('detail.escrowYes')}</Descriptions.Item>
                    <Descriptions.Item label={t('detail.logistics')}>
                      {d.trade.escrow.logistics_no
                        ? `${d.trade.escrow.logistics_company} ${d.trade.escrow.logistics_no}`
                        : '—'}
                    </Descriptions.Item>
                    <Descriptions.Item label={t('detail.confirmDue')}>
                      {time(d.trade.escrow.confirm_due_at)}
                    </Descriptions.Item>
                    <Descriptions.Item label={t('detail.released')}>
                      {time(d.trade.escrow.released_at)}
                    </Descriptions.Item>
                    <Descriptions.Item label={t('detail.fee')}>{yuan(d.trade.escrow.fee_amount)}</Descriptions.Item>
                  </>
                )}
              </Descriptions>
            </Card>
            <Card size="small" title={t('detail.history')}>
              <Timeline
                items={[
                  { content: `${t('trades.created')} ${time(d.trade.created_at)}` },
                  ...d.transitions.map((m) => ({
                    content: (
                      <>
                        <StatusTag kind="trade" status={m.to} /> {time(m.at)} · {actorText(t, m.actor)}
                      </>
                    ),
                  })),
                ]}
              />
            </Card>
            {d.refunds.length > 0 && (
              <Card size="small" title={t('detail.refunds')}>
                <Scrollable label={t('detail.refunds')}>
                  <Table
                    rowKey="out_request_no"
                    dataSource={d.refunds}
                    size="small"
                    pagination={false}
                    scroll={{ x: 600 }}
                    columns={[
                      {
                        title: t('detail.outRequestNo'),
                        dataIndex: 'out_request_no',
                        render: (v: string) => <span className="mono">{v}</span>,
                      },
                      {
                        title: t('trades.amount'),
                        dataIndex: 'amount',
                        className: 'nowrap',
                        render: (a: string) => yuan(a),
                      },
                      { title: t('detail.reason'), dataIndex: 'reason', render: (r: string | null) => r ?? '—' },
                      {
                        title: t('trades.status'),
                        dataIndex: 'status',
                        render: (s: string) => (
                          <Tag
                            color={
                              s === 'SUCCESS'
                                ? tagColours.success
                                : s === 'FAILED'
                                  ? tagColours.error
                                  : tagColours.processing
                            }
                          >
                            {t(s === 'SUCCESS' ? 'order.SUCCESS' : s === 'FAILED' ? 'order.FAILED' : 'order.IN_FLIGHT')}
                          </Tag>
                        ),
                      },
                      { title: t('trades.created'), dataIndex: 'created_at', className: 'nowrap', render: time },
                    ]}
                  />
                </Scrollable>
              </Card>
            )}
            {(d.cases.length > 0 || d.disputes.length > 0) && (
              <Card size="small" title={t('detail.afterSale')}>
                {d.cases.length > 0 && <CasesTable cases={d.cases} onChange={detail.reload} />}
                {d.disputes.length > 0 && <DisputesTable disputes={d.disputes} onChange={detail.reload} />}
              </Card>
            )}
            <Card size="small" title={t('detail.notifications')}>
              <NotificationsTable rows={d.notifications as Notification[]} onChange={detail.reload} />
            </Card>
          </Space>
        )}
      </Loading>
    </>
  );
}

function refundableFen(trade: Trade): bigint {
  if (!['TRADE_SUCCESS', 'WAIT_SELLER_SEND_GOODS', 'WAIT_BUYER_CONFIRM_GOODS'].includes(trade.status)) return 0n;
  return toFen(trade.total_amount) - toFen(trade.refunded_amount);
}

function RefundButton({ trade, onDone }: { trade: Trade; onDone(): void }) {
  const t = useT();
  const { message } = AntApp.useApp();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  // One refund number per intent: a retry of the same submission refunds once.
  const [requestNo, setRequestNo] = useState(newRequestNo);
  const left = fromFen(refundableFen(trade));
  const submit = async (f: { amount: string; reason?: string }) => {
    const amount = amountInput(f.amount);
    if (!amount) return;
    setBusy(true);
    try {
      await api.post(`/trades/${trade.trade_no}/refund`, {
        refund_amount: amount,
        out_request_no: requestNo,
        ...(f.reason?.trim() ? { reason: f.reason.trim() } : {}),
      });
      message.success(t('detail.refundDone', { amount: yuan(amount) }));
      setOpen(false);
      setRequestNo(newRequestNo());
      onDone();
    } catch (e) {
      message.error(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button danger onClick={() => setOpen(true)}>
        {t('detail.refund')}
      </Button>
      <Modal open={open} title={t('detail.refund')} onCancel={() => setOpen(false)} footer={null} destroyOnHidden>
        <Typography.Paragraph>{t('detail.refundable', { amount: yuan(left) })}</Typography.Paragraph>
        <Form layout="vertical" onFinish={submit} initialValues={{ amount: left }}>
          <Form.Item
            name="amount"
            label={t('detail.refundAmount')}
            rules={[
              {
                required: true,
                validator: async (_, value: string) => {
                  const amount = amountInput(value ?? '');
                  if (!amount) throw new Error(t('error.amount_invalid'));
                  if (toFen(amount) > toFen(left)) throw new Error(t('error.REFUND_AMT_NOT_EQUAL_TOTAL'));
                },
              },
            ]}
          >
            <Input inputMode="decimal" prefix="¥" />
          </Form.Item>
          <Form.Item name="reason" label={t('detail.reason')}>
            <Input maxLength={256} />
          </Form.Item>
          <Button type="primary" danger htmlType="submit" loading={busy}>
            {t('detail.refund')}
          </Button>
        </Form>
      </Modal>
    </>
  );
}

function ShipButton({ trade, onDone }: { trade: Trade; onDone(): void }) {
  const t = useT();
  const { message } = AntApp.useApp();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const submit = async (f: { company: string; trackingNo: string }) => {
    setBusy(true);
    try {
      await api.post(`/trades/${trade.trade_no}/ship`, {
        logistics_company: f.company.trim(),
        logistics_no: f.trackingNo.trim(),
      });
      message.success(t('detail.shipped'));
      setOpen(false);
      onDone();
    } catch (e) {
      message.error(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button type="primary" onClick={() => setOpen(true)}>
        {t('detail.ship')}
      </Button>
      <Modal open={open} title={t('detail.ship')} onCancel={() => setOpen(false)} footer={null} destroyOnHidden>
        <Form layout="vertical" onFinish={submit}>
          <Form.Item name="company" label={t('detail.company')} rules={[{ required: true, whitespace: true }]}>
            <Input maxLength={64} />
          </Form.Item>
          <Form.Item
            name="trackingNo"
            label={t('detail.trackingNo')}
            rules={[{ required: true, pattern: /^[A-Za-z0-9-]{1,64}$/ }]}
          >
            <Input maxLength={64} />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={busy}>
            {t('detail.ship')}
          </Button>
        </Form>
      </Modal>
    </>
  );
}
