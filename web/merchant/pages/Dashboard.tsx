/** The dashboard: today's and this month's figures, what waits on the merchant, and the charts by hour and day. */
import { Card, Col, Row, Statistic, Typography } from 'antd';
import { useCallback } from 'react';
import { Link } from 'react-router';
import { yuan } from '../../shared/money.ts';
import { api, type Dashboard as Figures, type Period, type Point } from '../client.ts';
import { type T, useT } from '../messages.ts';
import { Loading, useLoad } from '../ui.tsx';
import { VolumeChart } from './Chart.tsx';

interface Waiting {
  toShip: number;
  cases: number;
  disputes: number;
}

export default function Dashboard() {
  const t = useT();
  const figures = useLoad(() => api.get<Figures>('/dashboard'), []);
  const waiting = useLoad(async (): Promise<Waiting> => {
    const [ship, cases, disputes] = await Promise.all([
      api.get<{ total: number }>('/trades', { status: 'WAIT_SELLER_SEND_GOODS', page_size: '1' }),
      api.get<{ data: unknown[] }>('/refund-cases', { waiting: 'true' }),
      api.get<{ data: unknown[] }>('/disputes', { waiting: 'true' }),
    ]);
    return { toShip: ship.total, cases: cases.data.length, disputes: disputes.data.length };
  }, []);
  const hour = useCallback((p: Point) => p.label.slice(11, 13), []);
  const day = useCallback((p: Point) => p.label.slice(8, 10), []);
  return (
    <>
      <Typography.Title level={2} className="page-title">
        {t('nav.dashboard')}
      </Typography.Title>
      <Loading loaded={figures}>
        {(f) => (
          <>
            <PeriodRow t={t} title={t('dash.today')} period={f.today} />
            <PeriodRow t={t} title={t('dash.month')} period={f.month} />
            <Loading loaded={waiting}>
              {(w) => (
                <Card title={t('dash.waiting')} size="small" style={{ marginBottom: 16 }}>
                  <Row gutter={16}>
                    <Col xs={8}>
                      <Link to="/trades?status=WAIT_SELLER_SEND_GOODS">
                        <Statistic title={t('dash.toShip')} value={w.toShip} />
                      </Link>
                    </Col>
                    <Col xs={8}>
                      <Link to="/after-sale">
                        <Statistic title={t('dash.casesWaiting')} value={w.cases} />
                      </Link>
                    </Col>
                    <Col xs={8}>
                      <Link to="/after-sale?tab=disputes">
                        <Statistic title={t('dash.disputesWaiting')} value={w.disputes} />
                      </Link>
                    </Col>
                  </Row>
                </Card>
              )}
            </Loading>
            <Row gutter={[16, 16]}>
              <Col xs={24} xl={12}>
                <Card title={t('dash.byHour')} size="small">
                  <VolumeChart
                    points={f.by_hour}
                    label={hour}
                    volumeName={t('dash.chartVolume')}
                    countName={t('dash.chartCount')}
                    title={t('dash.byHour')}
                  />
                </Card>
              </Col>
              <Col xs={24} xl={12}>
                <Card title={t('dash.byDay')} size="small">
                  <VolumeChart
                    points={f.by_day}
                    label={day}
                    volumeName={t('dash.chartVolume')}
                    countName={t('dash.chartCount')}
                    title={t('dash.byDay')}
                  />
                </Card>
              </Col>
            </Row>
          </>
        )}
      </Loading>
    </>
  );
}

function PeriodRow({ t, title, period }: { t: T; title: string; period: Period }) {
  const rate = period.success_rate === null ? '—' : `${(period.success_rate * 100).toFixed(1)}%`;
  return (
    <Card title={title} size="small" style={{ marginBottom: 16 }}>
      <Row gutter={[16, 16]}>
        <Col xs={12} md={6}>
          <Statistic title={t('dash.volume')} value={yuan(period.volume)} />
        </Col>
        <Col xs={12} md={6}>
          <Statistic title={t('dash.count')} value={period.count} />
        </Col>
        <Col xs={12} md={6}>
          <Statistic title={t('dash.successRate')} value={rate} />
          <Typography.Text type="secondary">{t('dash.created', { n: period.created })}</Typography.Text>
        </Col>
        <Col xs={12} md={6}>
          <Statistic title={t('dash.refunded')} value={yuan(period.refunded)} />
          <Typography.Text type="secondary">{t('dash.refundCount', { n: period.refund_count })}</Typography.Text>
        </Col>
      </Row>
    </Card>
  );
}
