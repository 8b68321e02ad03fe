/** The notification log: what was posted to the apps' notify URLs, how often, and a resend. */
import { App as AntApp, Button, Card, Segmented, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, type Notification } from '../client.ts';
import { useT } from '../messages.ts';
import { Empty, errorText, Loading, Scrollable, StatusTag, tagColours, useLoad, useMay, useTime } from '../ui.tsx';

type State = 'all' | 'pending' | 'failed' | 'delivered';

export default function Notifications() {
  const t = useT();
  const [state, setState] = useState<State>('all');
  const [page, setPage] = useState(1);
  const rows = useLoad(
    () =>
      api.get<{ total: number; data: Notification[] }>('/notifications', {
        state: state === 'all' ? undefined : state,
        page: String(page),
      }),
    [state, page],
  );
  return (
    <>
      <Typography.Title level={2} className="page-title">
        {t('nav.notifications')}
      </Typography.Title>
      <Card size="small">
        <Segmented<State>
          value={state}
          onChange={(s) => {
            setState(s);
            setPage(1);
          }}
          options={[
            { value: 'all', label: t('note.all') },
            { value: 'pending', label: t('note.pending') },
            { value: 'failed', label: t('note.failed') },
            { value: 'delivered', label: t('note.delivered') },
          ]}
          style={{ marginBottom: 12 }}
        />
        <Loading loaded={rows}>
          {(data) => (
            <NotificationsTable
              rows={data.data}
              onChange={rows.reload}
              withTrade
              pagination={{ current: page, pageSize: 20, total: data.total, onChange: setPage }}
            />
          )}
        </Loading>
      </Card>
    </>
  );
}

export function NotificationsTable(props: {
  rows: Notification[];
  onChange(): void;
  withTrade?: boolean;
  pagination?: { current: number; pageSize: number; total: number; onChange(page: number): void };
}) {
  const t = useT();
  const time = useTime();
  const may = useMay();
  const { message } = AntApp.useApp();
  const resend = async (n: Notification) => {
    try {
      await api.post(`/notifications/${n.id}/resend`);
      message.success(t('note.resent'));
      props.onChange();
    } catch (e) {
      message.error(errorText(t, e));
    }
  };
  const stateColour = { delivered: tagColours.success, pending: tagColours.processing, failed: tagColours.error };
  return (
    <Scrollable label={t('nav.notifications')}>
      <Table<Notification>
        rowKey="id"
        dataSource={props.rows}
        size="small"
        scroll={{ x: 1000 }}
        pagination={props.pagination ? { ...props.pagination, showTotal: (n) => t('common.total', { n }) } : false}
        expandable={
          props.rows.some((n) => n.posts)
            ? {
                expandedRowRender: (n) => <Posts note={n} />,
                rowExpandable: (n) => n.posts !== undefined,
              }
            : undefined
        }
        locale={{ emptyText: <Empty text={t('after.empty')} /> }}
        columns={[
          { title: '#', dataIndex: 'id', render: (v: string) => <span className="mono">{v}</span> },
          ...(props.withTrade
            ? [
                {
                  title: t('trades.tradeNo'),
                  dataIndex: 'trade_no',
                  render: (no: string) => (
                    <Link to={`/trades/${no}`} className="mono">
                      {no}
                    </Link>
                  ),
                },
              ]
            : []),
          {
            title: t('note.tradeStatus'),
            dataIndex: 'trade_status',
            render: (s: string | null) => (s ? <StatusTag kind="trade" status={s} /> : '—'),
          },
          {
            title: t('note.state'),
            dataIndex: 'state',
            render: (s: Notification['state']) => <Tag color={stateColour[s]}>{t(`note.${s}`)}</Tag>,
          },
          { title: t('note.attempts'), dataIndex: 'attempts', align: 'right' },
          { title: t('trades.created'), dataIndex: 'created_at', className: 'nowrap', render: time },
          { title: t('note.next'), dataIndex: 'next_attempt_at', className: 'nowrap', render: time },
          { title: t('note.deliveredAt'), dataIndex: 'delivered_at', className: 'nowrap', render: time },
          {
            title: '',
            key: 'act',
            fixed: 'right' as const,
            render: (_: unknown, n: Notification) =>
              may('resend') ? (
                <Button size="small" onClick={() => resend(n)}>
                  {t('note.resend')}
                </Button>
              ) : null,
          },
        ]}
      />
    </Scrollable>
  );
}

/** Each post of one notification: when, where, and what the merchant's server answered. */
function Posts({ note }: { note: Notification }) {
  const t = useT();
  const time = useTime();
  const colour = {
    success: tagColours.success,
    rejected: tagColours.error,
    failed: tagColours.error,
    no_url: undefined,
  };
  if (!note.posts?.length) return <Empty text={t('note.noPosts')} />;
  return (
    <ul className="posts" aria-label={t('note.posts')}>
      {note.posts.map((p) => (
        <li key={p.attempt}>
          {t('note.post', { n: p.attempt, at: time(p.at), url: p.url ?? '—' })}{' '}
          <Tag color={colour[p.outcome]}>{t(`note.outcome.${p.outcome}`)}</Tag>
          {p.detail && <span className="mono">{p.detail}</span>}
        </li>
      ))}
    </ul>
  );
}
