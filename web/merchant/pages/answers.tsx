/** The seller's answers, shared by the after-sale page and a trade's detail: a refund case's and a dispute's. */
import { App as AntApp, Button, Form, Input, Modal, Space, Table } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { yuan } from '../../shared/money.ts';
import { api, type Dispute, type RefundCase } from '../client.ts';
import { useT } from '../messages.ts';
import { Empty, errorText, Scrollable, StatusTag, useMay, useTime } from '../ui.tsx';

export function CasesTable({ cases, onChange }: { cases: RefundCase[]; onChange(): void }) {
  const t = useT();
  const time = useTime();
  return (
    <Scrollable label={t('after.cases')}>
      <Table<RefundCase>
        rowKey="case_no"
        dataSource={cases}
        size="middle"
        pagination={false}
        scroll={{ x: 900 }}
        locale={{ emptyText: <Empty text={t('after.empty')} /> }}
        columns={[
          { title: t('after.caseNo'), dataIndex: 'case_no', render: (v: string) => <span className="mono">{v}</span> },
          {
            title: t('trades.tradeNo'),
            dataIndex: 'trade_no',
            render: (no: string) => (
              <Link to={`/trades/${no}`} className="mono">
                {no}
              </Link>
            ),
          },
          { title: t('after.amount'), dataIndex: 'refund_amount', className: 'nowrap', render: (a: string) => yuan(a) },
          { title: t('after.reason'), dataIndex: 'reason' },
          {
            title: t('trades.status'),
            dataIndex: 'status',
            render: (s: string) => <StatusTag kind="case" status={s} />,
          },
          { title: t('after.due'), dataIndex: 'due_at', className: 'nowrap', render: time },
          {
            title: '',
            key: 'act',
            fixed: 'right' as const,
            render: (_: unknown, c: RefundCase) => <CaseActions kase={c} onChange={onChange} />,
          },
        ]}
      />
    </Scrollable>
  );
}

function CaseActions({ kase, onChange }: { kase: RefundCase; onChange(): void }) {
  const t = useT();
  const may = useMay();
  const { message } = AntApp.useApp();
  const [refusing, setRefusing] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!may('answer')) return null;
  const answer = async (action: 'agree' | 'refuse' | 'receive_return', reason?: string) => {
    setBusy(true);
    try {
      await api.post(`/refund-cases/${kase.case_no}/answer`, { action, ...(reason ? { reason } : {}) });
      message.success(t('after.answered'));
      setRefusing(false);
      onChange();
    } catch (e) {
      message.error(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };
  if (kase.status === 'WAIT_SELLER_CONFIRM_GOODS') {
    return (
      <Button size="small" type="primary" loading={busy} onClick={() => answer('receive_return')}>
        {t('after.receiveReturn')}
      </Button>
    );
  }
  if (kase.status !== 'WAIT_SELLER_AGREE') return null;
  return (
    <Space>
      <Button size="small" type="primary" loading={busy} onClick={() => answer('agree')}>
        {t('after.agree')}
      </Button>
      <Button size="small" danger onClick={() => setRefusing(true)}>
        {t('after.refuse')}
      </Button>
      <Modal
        open={refusing}
        title={`${t('after.refuse')} · ${kase.case_no}`}
        onCancel={() => setRefusing(false)}
        footer={null}
        destroyOnHidden
      >
        <Form layout="vertical" onFinish={(f: { reason: string }) => answer('refuse', f.reason)}>
          <Form.Item name="reason" label={t('after.refuseReason')} rules={[{ required: true, whitespace: true }]}>
            <Input.TextArea rows={3} maxLength={500} />
          </Form.Item>
          <Button type="primary" danger htmlType="submit" loading={busy}>
            {t('after.refuse')}
          </Button>
        </Form>
      </Modal>
    </Space>
  );
}

export function DisputesTable({ disputes, onChange }: { disputes: Dispute[]; onChange(): void }) {
  const t = useT();
  const time = useTime();
  return (
    <Scrollable label={t('after.disputes')}>
      <Table<Dispute>
        rowKey="dispute_no"
        dataSource={disputes}
        size="middle"
        pagination={false}
        scroll={{ x: 900 }}
        locale={{ emptyText: <Empty text={t('after.empty')} /> }}
        columns={[
          {
            title: t('after.disputeNo'),
            dataIndex: 'dispute_no',
            render: (v: string) => <span className="mono">{v}</span>,
          },
          {
            title: t('trades.tradeNo'),
            dataIndex: 'trade_no',
            render: (no: string) => (
              <Link to={`/trades/${no}`} className="mono">
                {no}
              </Link>
            ),
          },
          { title: t('after.claim'), dataIndex: 'claim_amount', className: 'nowrap', render: (a: string) => yuan(a) },
          { title: t('after.reason'), dataIndex: 'reason' },
          { title: t('after.evidence'), dataIndex: 'evidence', render: (e: string | null) => e ?? '—' },
          {
            title: t('trades.status'),
            dataIndex: 'status',
            render: (s: string) => <StatusTag kind="dispute" status={s} />,
          },
          { title: t('trades.created'), dataIndex: 'created_at', className: 'nowrap', render: time },
          {
            title: '',
            key: 'act',
            fixed: 'right' as const,
            render: (_: unknown, d: Dispute) => <DisputeAnswer dispute={d} onChange={onChange} />,
          },
        ]}
      />
    </Scrollable>
  );
}

function DisputeAnswer({ dispute, onChange }: { dispute: Dispute; onChange(): void }) {
  const t = useT();
  const may = useMay();
  const { message } = AntApp.useApp();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!may('answer') || dispute.status !== 'WAIT_SELLER_EVIDENCE') return null;
  const send = async ({ evidence }: { evidence: string }) => {
    setBusy(true);
    try {
      await api.post(`/disputes/${dispute.dispute_no}/evidence`, { evidence });
      message.success(t('after.evidenceSent'));
      setOpen(false);
      onChange();
    } catch (e) {
      message.error(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button size="small" type="primary" onClick={() => setOpen(true)}>
        {t('after.answer')}
      </Button>
      <Modal
        open={open}
        title={`${t('after.answer')} · ${dispute.dispute_no}`}
        onCancel={() => setOpen(false)}
        footer={null}
        destroyOnHidden
      >
        <Form layout="vertical" onFinish={send}>
          <Form.Item
            name="evidence"
            label={t('after.evidence')}
            extra={t('after.evidenceHelp')}
            rules={[{ required: true, whitespace: true }]}
          >
            <Input.TextArea rows={5} maxLength={2000} />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={busy}>
            {t('common.confirm')}
          </Button>
        </Form>
      </Modal>
    </>
  );
}
