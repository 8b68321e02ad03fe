/** Reserves against customer balances now, per bank, and the daily reports' history. */
import { App as AntApp, Button, Card, Col, Empty, Row, Statistic, Table } from 'antd';
import { useMemo, useState } from 'react';
import { yuan } from '../../shared/money.ts';
import { Chart } from '../chart.tsx';
import { api, errorText, useLoad } from '../client.ts';
import { useT } from '../messages.ts';
import { LoadError, Money, PageHead, Status } from '../ui.tsx';

interface Position {
  at: string;
  customerBalances: string;
  withdrawalsInFlight: string;
  banks: { bank: string; reserve: string; pendingOut: string }[];
  demoReserve: string;
  reserves: string;
  surplus: string;
  covered: boolean;
  coveragePercent: string;
}

const beijingDay = (iso: string) =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date(iso));

export default function Reserves() {
  const t = useT();
  const { message } = AntApp.useApp();
  const now = useLoad(() => api.get<Position>('/reserves'), []);
  const history = useLoad(() => api.get<{ data: Position[] }>('/reserves/history'), []);
  const [busy, setBusy] = useState(false);
  const snapshot = async () => {
    setBusy(true);
    try {
      await api.post('/reserves/snapshot');
      message.success(t('reserves.snapshotDone'));
      now.reload();
      history.reload();
    } catch (error) {
      message.error(errorText(t, error));
    } finally {
      setBusy(false);
    }
  };
  const p = now.data;
  const days = history.data?.data ?? [];
  const option = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: [t('reserves.customer'), t('reserves.reserves')] },
      grid: { left: 80, right: 24, top: 40, bottom: 32 },
      xAxis: { type: 'category', data: days.map((d) => beijingDay(d.at)) },
      yAxis: { type: 'value', axisLabel: { formatter: (v: number) => `¥${v.toLocaleString()}` } },
      series: [
        // Charts draw numbers: the decimal strings become floats here only, never in a sum.
        { name: t('reserves.customer'), type: 'line', data: days.map((d) => Number(d.customerBalances)) },
        { name: t('reserves.reserves'), type: 'line', data: days.map((d) => Number(d.reserves)) },
      ],
    }),
    [days, t],
  );
  return (
    <>
      <PageHead
        title={t('reserves.title')}
        extra={
          <Button onClick={snapshot} loading={busy} id="snapshot">
            {t('reserves.snapshot')}
          </Button>
        }
      />
      <LoadError error={now.error} />
      <Row gutter={[16, 16]} id="reserve-figures">
        <Col xs={12} lg={6}>
          <Card>
            <Statistic title={t('reserves.customer')} value={p ? yuan(p.customerBalances) : '—'} />
          </Card>
        </Col>
        <Col xs={12} lg={6}>
          <Card>
            <Statistic title={t('reserves.reserves')} value={p ? yuan(p.reserves) : '—'} />
          </Card>
        </Col>
        <Col xs={12} lg={6}>
          <Card>
            <Statistic title={t('reserves.surplus')} value={p ? yuan(p.surplus) : '—'} />
          </Card>
        </Col>
        <Col xs={12} lg={6}>
          <Card>
            <Statistic
              title={t('reserves.coverage')}
              value={p ? `${p.coveragePercent}%` : '—'}
              suffix={
                p ? (
                  <Status tone={p.covered ? 'success' : 'error'}>
                    {t(p.covered ? 'reserves.covered' : 'reserves.notCovered')}
                  </Status>
                ) : null
              }
            />
          </Card>
        </Col>
      </Row>
      <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
        <Col xs={24} xl={10}>
          <Card title={t('reserves.perBank')}>
            <Table
              size="small"
              rowKey="bank"
              pagination={false}
              dataSource={p?.banks ?? []}
              columns={[
                { title: t('recon.bank'), dataIndex: 'bank' },
                { title: t('reserves.reserves'), dataIndex: 'reserve', render: (v: string) => <Money amount={v} /> },
                {
                  title: t('reserves.pendingOut'),
                  dataIndex: 'pendingOut',
                  render: (v: string) => <Money amount={v} />,
                },
              ]}
              summary={() =>
                p ? (
                  <>
                    <Table.Summary.Row>
                      <Table.Summary.Cell index={0}>{t('reserves.demo')}</Table.Summary.Cell>
                      <Table.Summary.Cell index={1} colSpan={2}>
                        <Money amount={p.demoReserve} />
                      </Table.Summary.Cell>
                    </Table.Summary.Row>
                    <Table.Summary.Row>
                      <Table.Summary.Cell index={0}>{t('reserves.inFlight')}</Table.Summary.Cell>
                      <Table.Summary.Cell index={1} colSpan={2}>
                        <Money amount={p.withdrawalsInFlight} />
                      </Table.Summary.Cell>
                    </Table.Summary.Row>
                  </>
                ) : null
              }
            />
          </Card>
        </Col>
        <Col xs={24} xl={14}>
          <Card title={t('reserves.history')}>
            {days.length === 0 ? (
              <Empty description={t('reserves.noHistory')} />
            ) : (
              <Chart option={option} label={t('reserves.history')} id="reserve-history" />
            )}
          </Card>
        </Col>
      </Row>
    </>
  );
}
