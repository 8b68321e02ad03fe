/** The dispute queue: escrow disputes waiting for a ruling, and the ruling itself. */
import { Button, Form, Input, Radio, Table } from 'antd';
import { useState } from 'react';
import { amountInput } from '../../shared/money.ts';
import { api, useLoad } from '../client.ts';
import { type Key, useT } from '../messages.ts';
import { ActionModal, LoadError, Money, NoteField, PageHead, Status, Time } from '../ui.tsx';

interface Dispute {
  dispute_no: string;
  trade_no: string;
  status: string;
  claim_amount: string;
  reason: string;
  evidence: string | null;
  created_at: string;
  buyer_id: string;
  seller_id: string;
}

export default function Disputes() {
  const t = useT();
  const list = useLoad(() => api.get<{ data: Dispute[] }>('/disputes'), []);
  const [ruling, setRuling] = useState<Dispute | null>(null);
  return (
    <>
      <PageHead
        title={t('disputes.title')}
        subtitle={t('disputes.subtitle')}
        extra={<Button onClick={list.reload}>{t('common.refresh')}</Button>}
      />
      <LoadError error={list.error} />
      <Table<Dispute>
        id="dispute-table"
        rowKey="dispute_no"
        loading={list.loading}
        dataSource={list.data?.data ?? []}
        locale={{ emptyText: t('disputes.empty') }}
        scroll={{ x: true }}
        columns={[
          {
            title: t('disputes.no'),
            dataIndex: 'dispute_no',
            render: (v: string) => <span className="mono">{v}</span>,
          },
          {
            title: t('disputes.trade'),
            dataIndex: 'trade_no',
            render: (v: string) => <span className="mono">{v}</span>,
          },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (s: string) => <Status tone="warning">{t(`dispute.${s}` as Key)}</Status>,
          },
          { title: t('disputes.claim'), dataIndex: 'claim_amount', render: (v: string) => <Money amount={v} /> },
          { title: t('disputes.reason'), dataIndex: 'reason' },
          { title: t('disputes.evidence'), dataIndex: 'evidence', render: (v: string | null) => v ?? '—' },
          { title: t('disputes.opened'), dataIndex: 'created_at', render: (v: string) => <Time iso={v} /> },
          {
            title: t('common.actions'),
            fixed: 'right' as const,
            key: 'actions',
            render: (_, d) => (
              <Button type="primary" size="small" data-testid={`rule-${d.dispute_no}`} onClick={() => setRuling(d)}>
                {t('disputes.rule')}
              </Button>
            ),
          },
        ]}
      />
      {ruling ? (
        <RulingModal
          dispute={ruling}
          onClose={(done) => {
            setRuling(null);
            if (done) list.reload();
          }}
        />
      ) : null}
    </>
  );
}

function RulingModal({ dispute, onClose }: { dispute: Dispute; onClose(done: boolean): void }) {
  const t = useT();
  const [form] = Form.useForm<Ruling>();
  const decision = Form.useWatch('decision', form);
  return (
    <ActionModal<Ruling>
      title={t('disputes.ruleTitle', { no: dispute.dispute_no })}
      submitId="ruling-submit"
      form={form}
      initialValues={{ decision: 'BUYER', award: dispute.claim_amount, note: '' }}
      send={(values) =>
        api.post(`/disputes/${encodeURIComponent(dispute.dispute_no)}/ruling`, {
          decision: values.decision,
          ...(values.decision === 'BUYER' ? { award_amount: amountInput(values.award) } : {}),
          ...(values.note ? { note: values.note } : {}),
        })
      }
      done={t('disputes.ruled', { no: dispute.dispute_no })}
      onClose={onClose}
    >
      <Form.Item label={t('disputes.decision')} name="decision">
        <Radio.Group>
          <Radio value="BUYER" id="decision-buyer">
            {t('disputes.forBuyer')}
          </Radio>
          <Radio value="SELLER" id="decision-seller">
            {t('disputes.forSeller')}
          </Radio>
        </Radio.Group>
      </Form.Item>
      {decision !== 'SELLER' ? (
        <Form.Item
          label={t('disputes.award')}
          name="award"
          rules={[
            {
              validator: async (_, v: string) =>
                amountInput(v ?? '') ? undefined : Promise.reject(t('error.amount_invalid')),
            },
          ]}
        >
          <Input inputMode="decimal" prefix="¥" />
        </Form.Item>
      ) : null}
      <NoteField name="note" label={t('common.note')} optional rows={2} />
    </ActionModal>
  );
}

interface Ruling {
  decision: 'BUYER' | 'SELLER';
  award: string;
  note: string;
}
