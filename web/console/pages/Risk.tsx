/** The risk engine's review queue (approve or reject a held payment) and its rules. */
import { App as AntApp, Button, Form, Input, Modal, Popconfirm, Select, Space, Table, Tabs, Tag } from 'antd';
import { useState } from 'react';
import { amountInput } from '../../shared/money.ts';
import { api, errorText, useLoad } from '../client.ts';
import { type Key, useT } from '../messages.ts';
import { ActionModal, LoadError, Money, NoteField, PageHead, Status, Time } from '../ui.tsx';

interface Review {
  review_id: string;
  path: string;
  ref: string | null;
  user_id: string;
  amount: string;
  status: 'PENDING' | 'APPROVED' | 'REJECTED';
  created_at: string;
  decided_by: string | null;
  note: string | null;
  decision: { fired: { name: string; reason: string }[] } | null;
}

interface Rule {
  rule_id: number;
  name: string;
  condition: Record<string, unknown>;
  paths: string[];
  action: string;
  mode: string;
  enabled: boolean;
  updated_at: string;
}

const paths = ['trade_pay', 'cashier_pay', 'quick_pay', 'withdrawal', 'transfer', 'red_packet', 'payout', 'campaign'];

export default function Risk() {
  const t = useT();
  return (
    <>
      <PageHead title={t('nav.risk')} />
      <Tabs
        items={[
          { key: 'reviews', label: t('risk.reviews'), children: <Reviews /> },
          { key: 'rules', label: t('risk.rules'), children: <Rules /> },
        ]}
      />
    </>
  );
}

function Reviews() {
  const t = useT();
  const [status, setStatus] = useState<'PENDING' | 'APPROVED' | 'REJECTED'>('PENDING');
  const reviews = useLoad(() => api.get<{ data: Review[] }>('/risk/reviews', { status }), [status]);
  const [deciding, setDeciding] = useState<{ review: Review; verdict: 'approve' | 'reject' } | null>(null);
  return (
    <>
      <Space style={{ marginBottom: 16 }}>
        <Select
          aria-label={t('common.status')}
          value={status}
          style={{ width: 140 }}
          onChange={setStatus}
          options={(['PENDING', 'APPROVED', 'REJECTED'] as const).map((s) => ({
            value: s,
            label: t(`risk.review.${s}`),
          }))}
        />
        <Button onClick={reviews.reload}>{t('common.refresh')}</Button>
      </Space>
      <LoadError error={reviews.error} />
      <Table<Review>
        id="review-table"
        rowKey="review_id"
        loading={reviews.loading}
        dataSource={reviews.data?.data ?? []}
        locale={{ emptyText: t('common.empty') }}
        scroll={{ x: true }}
        columns={[
          { title: t('common.time'), dataIndex: 'created_at', render: (v: string) => <Time iso={v} /> },
          { title: t('risk.path'), dataIndex: 'path', render: (p: string) => t(`risk.path.${p}` as Key) },
          { title: t('common.user'), dataIndex: 'user_id', render: (v: string) => <span className="mono">{v}</span> },
          { title: t('common.amount'), dataIndex: 'amount', render: (v: string) => <Money amount={v} /> },
          {
            title: t('risk.fired'),
            key: 'fired',
            render: (_, r) => (r.decision?.fired ?? []).map((f) => <Tag key={f.name}>{f.name}</Tag>),
          },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (s: Review['status'], r) => (
              <Space direction="vertical" size={0}>
                <Status tone={s === 'PENDING' ? 'warning' : s === 'APPROVED' ? 'success' : 'error'}>
                  {t(`risk.review.${s}`)}
                </Status>
                {r.note ? <small>{r.note}</small> : null}
              </Space>
            ),
          },
          {
            title: t('common.actions'),
            fixed: 'right' as const,
            key: 'actions',
            render: (_, r) =>
              r.status === 'PENDING' ? (
                <Space>
                  <Button
                    size="small"
                    type="primary"
                    data-testid={`approve-${r.review_id}`}
                    onClick={() => setDeciding({ review: r, verdict: 'approve' })}
                  >
                    {t('risk.approve')}
                  </Button>
                  <Button size="small" danger onClick={() => setDeciding({ review: r, verdict: 'reject' })}>
                    {t('risk.reject')}
                  </Button>
                </Space>
              ) : null,
          },
        ]}
      />
      {deciding ? (
        <DecideModal
          {...deciding}
          onClose={(done) => {
            setDeciding(null);
            if (done) reviews.reload();
          }}
        />
      ) : null}
    </>
  );
}

function DecideModal({
  review,
  verdict,
  onClose,
}: {
  review: Review;
  verdict: 'approve' | 'reject';
  onClose(done: boolean): void;
}) {
  const t = useT();
  return (
    <ActionModal<{ note?: string }>
      title={t('risk.decideTitle', {
        verdict: t(verdict === 'approve' ? 'risk.approve' : 'risk.reject'),
        amount: `¥${review.amount}`,
      })}
      submitId="decide-submit"
      danger={verdict === 'reject'}
      send={({ note }) =>
        api.post(`/risk/reviews/${review.review_id}/decision`, { verdict, ...(note?.trim() ? { note } : {}) })
      }
      done={t('risk.decided')}
      onClose={onClose}
    >
      <NoteField name="note" label={t('common.note')} optional rows={2} />
    </ActionModal>
  );
}

/** A rule's condition in a few words: its kind and fields. */
function conditionText(c: Record<string, unknown>): string {
  return Object.entries(c)
    .filter(([k]) => k !== 'kind')
    .reduce((text, [k, v]) => `${text} ${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`, String(c.kind));
}

function Rules() {
  const t = useT();
  const { message } = AntApp.useApp();
  const rules = useLoad(() => api.get<{ data: Rule[] }>('/risk/rules'), []);
  const [form] = Form.useForm<{ name: string; over: string; action: string; paths: string[] }>();
  const [creating, setCreating] = useState(false);
  const create = async () => {
    const v = await form.validateFields();
    try {
      await api.post('/risk/rules', {
        name: v.name,
        condition: { kind: 'amount', over: amountInput(v.over) },
        action: v.action,
        ...(v.paths?.length ? { paths: v.paths } : {}),
      });
      message.success(t('risk.rule.created'));
      setCreating(false);
      form.resetFields();
      rules.reload();
    } catch (error) {
      message.error(errorText(t, error));
    }
  };
  const remove = async (id: number) => {
    try {
      await api.delete(`/risk/rules/${id}`);
      message.success(t('risk.rule.deleted'));
      rules.reload();
    } catch (error) {
      message.error(errorText(t, error));
    }
  };
  return (
    <>
      <Space style={{ marginBottom: 16 }}>
        <Button type="primary" onClick={() => setCreating(true)}>
          {t('risk.rule.new')}
        </Button>
        <Button onClick={rules.reload}>{t('common.refresh')}</Button>
      </Space>
      <LoadError error={rules.error} />
      <Table<Rule>
        rowKey="rule_id"
        loading={rules.loading}
        dataSource={rules.data?.data ?? []}
        locale={{ emptyText: t('common.empty') }}
        scroll={{ x: true }}
        columns={[
          { title: t('risk.rule.name'), dataIndex: 'name' },
          {
            title: t('risk.rule.condition'),
            dataIndex: 'condition',
            render: (c: Rule['condition']) => conditionText(c),
          },
          {
            title: t('risk.rule.paths'),
            dataIndex: 'paths',
            render: (ps: string[]) =>
              ps.length === 0
                ? t('risk.rule.allPaths')
                : ps.map((p) => <Tag key={p}>{t(`risk.path.${p}` as Key)}</Tag>),
          },
          { title: t('risk.rule.action'), dataIndex: 'action', render: (a: string) => t(`risk.action.${a}` as Key) },
          { title: t('risk.rule.mode'), dataIndex: 'mode', render: (m: string) => t(`risk.mode.${m}` as Key) },
          {
            title: t('risk.rule.enabled'),
            dataIndex: 'enabled',
            render: (e: boolean) => (e ? t('common.yes') : t('common.no')),
          },
          {
            title: t('common.actions'),
            fixed: 'right' as const,
            key: 'actions',
            render: (_, r) => (
              <Popconfirm
                title={t('risk.rule.delete')}
                okText={t('common.confirm')}
                cancelText={t('common.cancel')}
                onConfirm={() => remove(r.rule_id)}
              >
                <Button size="small" danger>
                  {t('risk.rule.delete')}
                </Button>
              </Popconfirm>
            ),
          },
        ]}
      />
      <Modal
        open={creating}
        title={t('risk.rule.new')}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        onOk={create}
        onCancel={() => setCreating(false)}
      >
        <Form form={form} layout="vertical" initialValues={{ action: 'review', paths: [] }} requiredMark={false}>
          <Form.Item
            label={t('risk.rule.name')}
            name="name"
            rules={[{ required: true, message: t('common.required') }]}
          >
            <Input />
          </Form.Item>
          <Form.Item
            label={t('risk.rule.over')}
            name="over"
            rules={[
              {
                validator: async (_, v: string) =>
                  amountInput(v ?? '') ? undefined : Promise.reject(t('error.amount_invalid')),
              },
            ]}
          >
            <Input prefix="¥" inputMode="decimal" />
          </Form.Item>
          <Form.Item label={t('risk.rule.action')} name="action">
            <Select
              options={['deny', 'challenge', 'review'].map((a) => ({ value: a, label: t(`risk.action.${a}` as Key) }))}
            />
          </Form.Item>
          <Form.Item label={t('risk.rule.paths')} name="paths">
            <Select
              mode="multiple"
              placeholder={t('risk.rule.allPaths')}
              options={paths.map((p) => ({ value: p, label: t(`risk.path.${p}` as Key) }))}
            />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
