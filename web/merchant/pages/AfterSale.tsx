/** Refund cases and disputes on the merchant's trades, those waiting on it first to hand. */
import { Card, Space, Switch, Tabs, Typography } from 'antd';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { api, type Dispute, type RefundCase } from '../client.ts';
import { useT } from '../messages.ts';
import { Loading, useLoad } from '../ui.tsx';
import { CasesTable, DisputesTable } from './answers.tsx';

export default function AfterSale() {
  const t = useT();
  const [params, setParams] = useSearchParams();
  const [waiting, setWaiting] = useState(true);
  const tab = params.get('tab') === 'disputes' ? 'disputes' : 'cases';
  const query = { waiting: waiting ? 'true' : undefined };
  const cases = useLoad(() => api.get<{ data: RefundCase[] }>('/refund-cases', query), [waiting]);
  const disputes = useLoad(() => api.get<{ data: Dispute[] }>('/disputes', query), [waiting]);
  return (
    <>
      <Typography.Title level={2} className="page-title">
        {t('nav.afterSale')}
      </Typography.Title>
      <Card size="small">
        <Space>
          <Switch id="waiting-only" checked={waiting} onChange={setWaiting} />
          <label htmlFor="waiting-only">{t('after.waitingOnly')}</label>
        </Space>
        <Tabs
          activeKey={tab}
          onChange={(key) => setParams(key === 'disputes' ? { tab: 'disputes' } : {})}
          items={[
            {
              key: 'cases',
              label: t('after.cases'),
              children: (
                <Loading loaded={cases}>{(d) => <CasesTable cases={d.data} onChange={cases.reload} />}</Loading>
              ),
            },
            {
              key: 'disputes',
              label: t('after.disputes'),
              children: (
                <Loading loaded={disputes}>
                  {(d) => <DisputesTable disputes={d.data} onChange={disputes.reload} />}
                </Loading>
              ),
            },
          ]}
        />
      </Card>
    </>
  );
}
