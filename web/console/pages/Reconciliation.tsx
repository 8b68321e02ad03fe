/** The reconciliation queue per bank and day: run a day, settle a line or write it off. */
import { App as AntApp, Button, Form, Input, Select, Space, Table } from 'antd';
import { useState } from 'react';
import { api, errorText, useLoad } from '../client.ts';
import { type Key, useT } from '../messages.ts';
import { ActionModal, LoadError, Money, NoteField, PageHead, Status } from '../ui.tsx';

interface Item {
  id: string;
  bank: string;
  date: string;
  orderNo: string;
  class: string;
  paybaoStatus: string | null;
  paybaoAmount: string | null;
  bankStatus: string | null;
  bankAmount: string | null;
  detail: string;
  state: 'OPEN' | 'RESOLVED';
  resolution: string | null;
}

interface Filter {
  bank: string;
  date: string;
  state: 'OPEN' | 'RESOLVED' | 'ALL';
}

const beijingToday = () =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());

export default function Reconciliation() {
  const t = useT();
  const { message } = AntApp.useApp();
  const [filter, setFilter] = useState<Filter>({ bank: '', date: '', state: 'OPEN' });
  const [resolving, setResolving] = useState<{ item: Item; action: 'dismiss' | 'write_off' } | null>(null);
  const items = useLoad(
    () =>
      api.get<{ data: Item[] }>('/reconciliation-items', {
        bank: filter.bank || undefined,
        date: filter.date || undefined,
        state: filter.state === 'ALL' ? undefined : filter.state,
      }),
    [filter],
  );
  const [runForm] = Form.useForm<{ bank: string; date: string }>();
  const [running, setRunning] = useState(false);
  const run = async () => {
    const values = await runForm.validateFields();
    setRunning(true);
    try {
      const s = await api.post<{ bank: string; date: string; lines: number; matched: number; queued: number }>(
        '/reconciliations',
        { bank: values.bank.trim().toUpperCase(), date: values.date },
      );
      message.success(t('recon.ran', s));
      items.reload();
    } catch (error) {
      message.error(errorText(t, error));
    } finally {
      setRunning(false);
    }
  };
  return (
    <>
      <PageHead title={t('recon.title')} subtitle={t('recon.subtitle')} />
      <Form
        form={runForm}
        layout="inline"
        initialValues={{ bank: 'ICBC', date: beijingToday() }}
        style={{ marginBottom: 16, rowGap: 8 }}
        requiredMark={false}
      >
        <Form.Item label={t('recon.bank')} name="bank" rules={[{ required: true, message: t('common.required') }]}>
          <Input style={{ width: 110 }} />
        </Form.Item>
        <Form.Item label={t('recon.date')} name="date" rules={[{ required: true, message: t('common.required') }]}>
          <Input type="date" />
        </Form.Item>
        <Button type="primary" loading={running} onClick={run} id="run-recon">
          {t('recon.run')}
        </Button>
      </Form>
      <Space wrap style={{ marginBottom: 16 }}>
        <Input
          aria-label={t('recon.bank')}
          placeholder={t('recon.bank')}
          allowClear
          style={{ width: 120 }}
          onChange={(e) => setFilter((f) => ({ ...f, bank: e.target.value.trim().toUpperCase() }))}
        />
        <Input
          aria-label={t('recon.date')}
          type="date"
          onChange={(e) => setFilter((f) => ({ ...f, date: e.target.value }))}
        />
        <Select
          aria-label={t('recon.state')}
          value={filter.state}
          style={{ width: 160 }}
          onChange={(state) => setFilter((f) => ({ ...f, state }))}
          options={[
            { value: 'OPEN', label: t('recon.state.OPEN') },
            { value: 'RESOLVED', label: t('recon.state.RESOLVED') },
            { value: 'ALL', label: t('recon.allStates') },
          ]}
        />
        <Button onClick={items.reload}>{t('common.refresh')}</Button>
      </Space>
      <LoadError error={items.error} />
      <Table<Item>
        id="recon-table"
        rowKey="id"
        loading={items.loading}
        dataSource={items.data?.data ?? []}
        locale={{ emptyText: t('common.empty') }}
        scroll={{ x: true }}
        columns={[
          { title: '#', dataIndex: 'id' },
          { title: t('recon.bank'), dataIndex: 'bank' },
          { title: t('recon.date'), dataIndex: 'date', render: (v: string) => <span className="nowrap">{v}</span> },
          { title: t('recon.order'), dataIndex: 'orderNo', render: (v: string) => <span className="mono">{v}</span> },
          {
            title: t('recon.class'),
            dataIndex: 'class',
            render: (c: string) => <Status tone="error">{t(`recon.class.${c}` as Key)}</Status>,
          },
          {
            title: t('recon.paybao'),
            key: 'paybao',
            render: (_, i) => (
              <Space direction="vertical" size={0}>
                <Money amount={i.paybaoAmount} />
                <span>{i.paybaoStatus ? t(`order.${i.paybaoStatus}` as Key) : '—'}</span>
              </Space>
            ),
          },
          {
            title: t('recon.atBank'),
            key: 'bank-side',
            render: (_, i) => (
              <Space direction="vertical" size={0}>
                <Money amount={i.bankAmount} />
                <span>{i.bankStatus ? t(`order.${i.bankStatus}` as Key) : '—'}</span>
              </Space>
            ),
          },
          {
            title: t('recon.state'),
            dataIndex: 'state',
            render: (s: string, i) => (
              <Space direction="vertical" size={0}>
                <Status tone={s === 'OPEN' ? 'warning' : 'success'}>{t(`recon.state.${s}` as Key)}</Status>
                {i.resolution ? <small>{i.resolution}</small> : null}
              </Space>
            ),
          },
          {
            title: t('common.actions'),
            fixed: 'right' as const,
            key: 'actions',
            render: (_, i) =>
              i.state === 'OPEN' ? (
                <Space>
                  <Button
                    size="small"
                    data-testid={`settle-${i.id}`}
                    onClick={() => setResolving({ item: i, action: 'dismiss' })}
                  >
                    {t('recon.settle')}
                  </Button>
                  <Button size="small" danger onClick={() => setResolving({ item: i, action: 'write_off' })}>
                    {t('recon.writeOff')}
                  </Button>
                </Space>
              ) : null,
          },
        ]}
      />
      {resolving ? (
        <ResolveModal
          {...resolving}
          onClose={(done) => {
            setResolving(null);
            if (done) items.reload();
          }}
        />
      ) : null}
    </>
  );
}

function ResolveModal({
  item,
  action,
  onClose,
}: {
  item: Item;
  action: 'dismiss' | 'write_off';
  onClose(done: boolean): void;
}) {
  const t = useT();
  const amount = item.paybaoAmount ?? item.bankAmount ?? '0.00';
  return (
    <ActionModal<{ note: string }>
      title={
        action === 'dismiss'
          ? t('recon.settleTitle', { id: item.id })
          : t('recon.writeOffTitle', { id: item.id, amount: `¥${amount}` })
      }
      submitId="resolve-submit"
      danger={action === 'write_off'}
      send={({ note }) => api.post(`/reconciliation-items/${item.id}/resolve`, { action, note })}
      done={t('recon.resolved', { id: item.id })}
      onClose={onClose}
    >
      <NoteField name="note" label={t('common.note')} />
    </ActionModal>
  );
}
