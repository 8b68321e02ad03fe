/** The channel loss rate: recorded losses against the volume of successful bank orders. */
import { Button, Card, Col, Row, Statistic } from 'antd';
import { yuan } from '../../shared/money.ts';
import { api, useLoad } from '../client.ts';
import { useT } from '../messages.ts';
import { LoadError, PageHead } from '../ui.tsx';

export default function LossRate() {
  const t = useT();
  const rate = useLoad(
    () => api.get<{ losses: string; volume: string; lossCount: number; perHundredThousand: string }>('/loss-rate'),
    [],
  );
  const r = rate.data;
  return (
    <>
      <PageHead
        title={t('loss.title')}
        subtitle={t('loss.subtitle')}
        extra={<Button onClick={rate.reload}>{t('common.refresh')}</Button>}
      />
      <LoadError error={rate.error} />
      <Row gutter={[16, 16]} id="loss-rate">
        <Col xs={12} lg={6}>
          <Card>
            <Statistic title={t('loss.rate')} value={r?.perHundredThousand ?? '—'} />
          </Card>
        </Col>
        <Col xs={12} lg={6}>
          <Card>
            <Statistic title={t('loss.losses')} value={r ? yuan(r.losses) : '—'} />
          </Card>
        </Col>
        <Col xs={12} lg={6}>
          <Card>
            <Statistic title={t('loss.count')} value={r?.lossCount ?? '—'} />
          </Card>
        </Col>
        <Col xs={12} lg={6}>
          <Card>
            <Statistic title={t('loss.volume')} value={r ? yuan(r.volume) : '—'} />
          </Card>
        </Col>
      </Row>
    </>
  );
}
