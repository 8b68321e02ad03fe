/** The activity log (owner): who of the staff did what in the portal, newest first, a page at a time. */
import { Button, Card, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { Link } from 'react-router';
import { type ActivityEntry, api } from '../client.ts';
import { type PortalWords, useT } from '../messages.ts';
import { Empty, Loading, Scrollable, useLoad, useTime } from '../ui.tsx';

const pageSize = 50;

export default function Activity() {
  const t = useT();
  const time = useTime();
  // The pages seen so far, by the id each started before: "older" goes one page on, "newest" back.
  const [before, setBefore] = useState<string[]>([]);
  const current = before.at(-1);
  const rows = useLoad(
    () =>
      api.get<{ data: ActivityEntry[] }>('/activity', {
        limit: String(pageSize),
        ...(current === undefined ? {} : { before: current }),
      }),
    [current],
  );
  // Our words for what we know, the code itself otherwise.
  const words = (key: string) => {
    const word = t(key as keyof PortalWords);
    return word === key ? undefined : word;
  };
  /** What was asked, as `Amount: 28.00 · Reason: …` rather than JSON. */
  const detailText = (detail: string | null): string => {
    if (detail === null) return '—';
    const parsed = JSON.parse(detail) as Record<string, unknown>;
    return Object.entries(parsed)
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => {
        const value = k === 'role' ? words(`role.${v}`) : typeof v === 'string' ? v : JSON.stringify(v);
        return `${words(`activity.key.${k}`) ?? k}: ${value}`;
      })
      .join(' · ');
  };
  return (
    <>
      <Typography.Title level={2} className="page-title">
        {t('activity.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('activity.intro')}</Typography.Paragraph>
      <Card size="small">
        <Loading loaded={rows}>
          {(data) => (
            <>
              <Scrollable label={t('activity.title')}>
                <Table<ActivityEntry>
                  rowKey="id"
                  dataSource={data.data}
                  size="small"
                  pagination={false}
                  scroll={{ x: 760 }}
                  locale={{ emptyText: <Empty text={t('activity.empty')} /> }}
                  columns={[
                    { title: t('activity.at'), dataIndex: 'at', className: 'nowrap', render: (at: string) => time(at) },
                    {
                      title: t('activity.who'),
                      key: 'who',
                      className: 'nowrap',
                      render: (_: unknown, e: ActivityEntry) => (
                        <Space size={6}>
                          {e.staff_name}
                          <Tag>{t(`role.${e.role}`)}</Tag>
                        </Space>
                      ),
                    },
                    {
                      title: t('activity.action'),
                      dataIndex: 'action',
                      className: 'nowrap',
                      render: (action: string) => words(`activity.${action}`) ?? action,
                    },
                    {
                      title: t('activity.target'),
                      key: 'target',
                      className: 'nowrap',
                      render: (_: unknown, e: ActivityEntry) =>
                        e.action.startsWith('trade.') ? (
                          <Link to={`/trades/${e.target}`}>{e.target}</Link>
                        ) : (
                          <Typography.Text code>{e.target}</Typography.Text>
                        ),
                    },
                    { title: t('activity.detail'), dataIndex: 'detail', render: detailText },
                  ]}
                />
              </Scrollable>
              <Space style={{ marginTop: 12 }}>
                {before.length > 0 && <Button onClick={() => setBefore([])}>{t('activity.newest')}</Button>}
                {data.data.length === pageSize && (
                  <Button onClick={() => setBefore([...before, data.data[data.data.length - 1]?.id ?? ''])}>
                    {t('activity.older')}
                  </Button>
                )}
              </Space>
            </>
          )}
        </Loading>
      </Card>
    </>
  );
}
