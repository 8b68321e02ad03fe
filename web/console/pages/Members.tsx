/** Users and merchants: search, balance, and (for risk) freeze or unfreeze with a reason. */
import { Button, Input, Select, Space, Table, Tooltip } from 'antd';
import { useState } from 'react';
import { allows, api, type Me, useLoad } from '../client.ts';
import { type Key, useT } from '../messages.ts';
import { ActionModal, LoadError, Money, NoteField, PageHead, Status, Time } from '../ui.tsx';

interface Member {
  user_id: string;
  kind: 'user' | 'merchant';
  logon_id: string | null;
  name: string | null;
  created_at: string;
  balance: string;
  frozen: { reason: string; frozen_by: string; frozen_at: string } | null;
}

export default function Members() {
  const t = useT();
  const me = useLoad(() => api.get<Me>('/me'), []);
  const [query, setQuery] = useState({ q: '', kind: 'all' as 'all' | 'user' | 'merchant' });
  const found = useLoad(
    () =>
      api.get<{ data: Member[] }>('/members', {
        q: query.q || undefined,
        kind: query.kind === 'all' ? undefined : query.kind,
      }),
    [query],
  );
  const [acting, setActing] = useState<{ member: Member; action: 'freeze' | 'unfreeze' } | null>(null);
  const mayFreeze = me.data ? allows(me.data.roles, ['risk']) : false;
  return (
    <>
      <PageHead title={t('members.title')} />
      <Space wrap style={{ marginBottom: 16 }}>
        <Input.Search
          id="member-search"
          aria-label={t('members.search')}
          placeholder={t('members.search')}
          allowClear
          enterButton={t('common.search')}
          style={{ width: 360 }}
          onSearch={(q) => setQuery((s) => ({ ...s, q: q.trim() }))}
        />
        <Select
          aria-label={t('members.kind')}
          value={query.kind}
          style={{ width: 160 }}
          onChange={(kind) => setQuery((s) => ({ ...s, kind }))}
          options={[
            { value: 'all', label: t('members.allKinds') },
            { value: 'user', label: t('members.kind.user') },
            { value: 'merchant', label: t('members.kind.merchant') },
          ]}
        />
      </Space>
      <LoadError error={found.error} />
      <Table<Member>
        id="member-table"
        rowKey="user_id"
        loading={found.loading}
        dataSource={found.data?.data ?? []}
        locale={{ emptyText: t('common.empty') }}
        scroll={{ x: true }}
        columns={[
          { title: t('members.id'), dataIndex: 'user_id', render: (v: string) => <span className="mono">{v}</span> },
          { title: t('members.kind'), dataIndex: 'kind', render: (k: string) => t(`members.kind.${k}` as Key) },
          { title: t('members.logon'), dataIndex: 'logon_id', render: (v: string | null) => v ?? '—' },
          { title: t('members.name'), dataIndex: 'name', render: (v: string | null) => v ?? '—' },
          { title: t('members.balance'), dataIndex: 'balance', render: (v: string) => <Money amount={v} /> },
          { title: t('common.time'), dataIndex: 'created_at', render: (v: string) => <Time iso={v} /> },
          {
            title: t('members.state'),
            key: 'state',
            render: (_, m) =>
              m.frozen ? (
                <Tooltip title={t('members.frozenBecause', { reason: m.frozen.reason })}>
                  <Status tone="error" testId={`frozen-${m.user_id}`}>
                    {t('members.frozen')}
                  </Status>
                </Tooltip>
              ) : (
                <Status tone="success">{t('members.active')}</Status>
              ),
          },
          ...(mayFreeze
            ? [
                {
                  title: t('common.actions'),
                  fixed: 'right' as const,
                  key: 'actions',
                  render: (_: unknown, m: Member) =>
                    m.frozen ? (
                      <Button size="small" onClick={() => setActing({ member: m, action: 'unfreeze' })}>
                        {t('members.unfreeze')}
                      </Button>
                    ) : (
                      <Button
                        size="small"
                        danger
                        data-testid={`freeze-${m.user_id}`}
                        onClick={() => setActing({ member: m, action: 'freeze' })}
                      >
                        {t('members.freeze')}
                      </Button>
                    ),
                },
              ]
            : []),
        ]}
      />
      {acting ? (
        <FreezeModal
          {...acting}
          onClose={(done) => {
            setActing(null);
            if (done) found.reload();
          }}
        />
      ) : null}
    </>
  );
}

function FreezeModal({
  member,
  action,
  onClose,
}: {
  member: Member;
  action: 'freeze' | 'unfreeze';
  onClose(done: boolean): void;
}) {
  const t = useT();
  return (
    <ActionModal<{ reason: string }>
      title={t(action === 'freeze' ? 'members.freezeTitle' : 'members.unfreezeTitle', { id: member.user_id })}
      submitId="freeze-submit"
      danger={action === 'freeze'}
      send={({ reason }) => api.post(`/members/${member.user_id}/${action}`, { reason })}
      done={t(action === 'freeze' ? 'members.frozenDone' : 'members.unfrozenDone', { id: member.user_id })}
      onClose={onClose}
    >
      <NoteField name="reason" label={t('common.reason')} />
    </ActionModal>
  );
}
