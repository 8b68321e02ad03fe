/** The live platform figures: payments/s and p99, ledger batches, notification backlog, shed requests. */
import { Card, Col, Row, Statistic } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { Chart } from '../chart.tsx';
import { api } from '../client.ts';
import { useT } from '../messages.ts';
import { LoadError, PageHead } from '../ui.tsx';

interface Figures {
  at: string;
  paymentsPerS: number;
  paymentP99Ms: number | null;
  ledgerBatchesPerS: number;
  ledgerBatchEventsMean: number | null;
  shedPerS: number;
  shedTotal: number;
  notificationBacklog: number;
  notificationsDue: number;
}

const refreshMs = 2000;
const pointsMax = 90;

export default function Live() {
  const t = useT();
  const [points, setPoints] = useState<Figures[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let alive = true;
    const read = async () => {
      try {
        const figures = await api.get<Figures>('/live');
        if (!alive) return;
        setError(null);
        setPoints((p) => [...p.slice(-(pointsMax - 1)), figures]);
      } catch (e) {
        if (alive) setError(e);
      }
    };
    read();
    const timer = setInterval(read, refreshMs);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, []);
  const last = points[points.length - 1];
  const times = points.map((p) => new Date(p.at).toLocaleTimeString());
  const payments = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: [t('live.paymentsPerS'), t('live.p99')] },
      grid: { left: 48, right: 48, top: 40, bottom: 32 },
      xAxis: { type: 'category', data: times },
      yAxis: [
        { type: 'value', minInterval: 1 },
        { type: 'value', name: t('live.ms') },
      ],
      series: [
        { name: t('live.paymentsPerS'), type: 'line', showSymbol: false, data: points.map((p) => p.paymentsPerS) },
        {
          name: t('live.p99'),
          type: 'line',
          yAxisIndex: 1,
          showSymbol: false,
          data: points.map((p) => p.paymentP99Ms),
        },
      ],
    }),
    [points, t, times],
  );
  const batches = useMemo(
    () => ({
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: [t('live.batchesPerS'), t('live.batchEvents')] },
      grid: { left: 48, right: 48, top: 40, bottom: 32 },
      xAxis: { type: 'category', data: times },
      yAxis: [{ type: 'value' }, { type: 'value' }],
      series: [
        { name: t('live.batchesPerS'), type: 'line', showSymbol: false, data: points.map((p) => p.ledgerBatchesPerS) },
        {
          name: t('live.batchEvents'),
          type: 'line',
          yAxisIndex: 1,
          showSymbol: false,
          data: points.map((p) => p.ledgerBatchEventsMean),
        },
      ],
    }),
    [points, t, times],
  );
  const none = t('live.none');
  return (
    <>
      <PageHead title={t('live.title')} subtitle={t('live.subtitle')} />
      <LoadError error={error} />
      <Row gutter={[16, 16]} id="live-figures">
        <Col xs={12} md={8} xl={4}>
          <Card>
            <Statistic title={t('live.paymentsPerS')} value={last?.paymentsPerS ?? none} />
          </Card>
        </Col>
        <Col xs={12} md={8} xl={4}>
          <Card>
            <Statistic
              title={t('live.p99')}
              value={last?.paymentP99Ms ?? none}
              suffix={last?.paymentP99Ms == null ? undefined : t('live.ms')}
            />
          </Card>
        </Col>
        <Col xs={12} md={8} xl={4}>
          <Card>
            <Statistic title={t('live.batchesPerS')} value={last?.ledgerBatchesPerS ?? none} />
          </Card>
        </Col>
        <Col xs={12} md={8} xl={4}>
          <Card>
            <Statistic title={t('live.batchEvents')} value={last?.ledgerBatchEventsMean ?? none} />
          </Card>
        </Col>
        <Col xs={12} md={8} xl={4}>
          <Card>
            <Statistic title={t('live.backlog')} value={last?.notificationBacklog ?? none} />
            {last ? <div className="stat-note">{t('live.due', { n: last.notificationsDue })}</div> : null}
          </Card>
        </Col>
        <Col xs={12} md={8} xl={4}>
          <Card>
            <Statistic title={t('live.shed')} value={last?.shedPerS ?? none} />
            {last ? <div className="stat-note">{t('live.shedTotal', { n: last.shedTotal })}</div> : null}
          </Card>
        </Col>
      </Row>
      <Row gutter={[16, 16]} style={{ marginTop: 16 }}>
        <Col xs={24} xl={12}>
          <Card title={t('live.chartPayments')}>
            <Chart option={payments} label={t('live.chartPayments')} id="chart-payments" />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card title={t('live.chartBatches')}>
            <Chart option={batches} label={t('live.chartBatches')} />
          </Card>
        </Col>
      </Row>
    </>
  );
}
