/** The audit log: every operator action, newest first, filtered by action or target. */
import { Button, Input, Space, Table } from 'antd';
import { useState } from 'react';
import { api, useLoad } from '../client.ts';
import { useT } from '../messages.ts';
import { LoadError, PageHead, Time } from '../ui.tsx';

interface Entry {
  id: string;
  operator_name: string;
  action: string;
  target: string;
  reason: string | null;
  detail: string | null;
  at: string;
}

export default function Audit() {
  const t = useT();
  const [filter, setFilter] = useState({ action: '', target: '' });
  const log = useLoad(
    () =>
      api.get<{ data: Entry[] }>('/audit', {
        action: filter.action || undefined,
        target: filter.target || undefined,
      }),
    [filter],
  );
  return (
    <>
      <PageHead
        title={t('audit.title')}
        subtitle={t('audit.subtitle')}
        extra={<Button onClick={log.reload}>{t('common.refresh')}</Button>}
      />
      <Space wrap style={{ marginBottom: 16 }}>
        <Input.Search
          aria-label={t('audit.action')}
          placeholder={t('audit.action')}
          allowClear
          onSearch={(action) => setFilter((f) => ({ ...f, action: action.trim() }))}
        />
        <Input.Search
          aria-label={t('audit.target')}
          placeholder={t('audit.target')}
          allowClear
          onSearch={(target) => setFilter((f) => ({ ...f, target: target.trim() }))}
        />
      </Space>
      <LoadError error={log.error} />
      <Table<Entry>
        id="audit-table"
        rowKey="id"
        loading={log.loading}
        dataSource={log.data?.data ?? []}
        locale={{ emptyText: t('common.empty') }}
        scroll={{ x: true }}
        columns={[
          { title: t('common.time'), dataIndex: 'at', render: (v: string) => <Time iso={v} /> },
          { title: t('audit.operator'), dataIndex: 'operator_name' },
          { title: t('audit.action'), dataIndex: 'action', render: (v: string) => <span className="mono">{v}</span> },
          { title: t('audit.target'), dataIndex: 'target', render: (v: string) => <span className="mono">{v}</span> },
          { title: t('common.reason'), dataIndex: 'reason', render: (v: string | null) => v ?? '—' },
          {
            title: t('audit.detail'),
            dataIndex: 'detail',
            render: (v: string | null) => <small style={{ wordBreak: 'break-all' }}>{v ?? '—'}</small>,
          },
        ]}
      />
    </>
  );
}
