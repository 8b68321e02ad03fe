/** Yu'e Bao: the daily declarations (declare, distribute), the products and the liquidity pools. */
import { App as AntApp, Button, Card, Col, Form, Input, Row, Select, Table } from 'antd';
import { useState } from 'react';
import { api, errorText, useLoad } from '../client.ts';
import { type Key, useT } from '../messages.ts';
import { LoadError, Money, PageHead, Status, Time } from '../ui.tsx';

interface Report {
  asOfDay: string;
  products: {
    productCode: string;
    companyCode: string;
    holders: number;
    sharesOutstanding: string;
    custodian: string;
  }[];
  pools: { companyCode: string; pool: string; dayDemand: string; coveragePercent: string | null; covered: boolean }[];
  declarations: {
    productCode: string;
    day: string;
    per10k: string;
    status: 'DECLARED' | 'SNAPSHOT' | 'DONE';
    totalAmount: string | null;
    holders: number | null;
    declaredAt: string;
  }[];
}

export default function Fund() {
  const t = useT();
  const { message } = AntApp.useApp();
  const report = useLoad(() => api.get<Report>('/fund/report'), []);
  const [form] = Form.useForm<{ product: string; day: string; per10k: string }>();
  const [busy, setBusy] = useState(false);
  const r = report.data;
  const declare = async () => {
    const v = await form.validateFields();
    setBusy(true);
    try {
      await api.put(`/fund/products/${v.product}/income/${v.day}`, { per10k: v.per10k });
      message.success(t('fund.declared'));
      report.reload();
    } catch (error) {
      message.error(errorText(t, error));
    } finally {
      setBusy(false);
    }
  };
  const distribute = async (day: string) => {
    try {
      const done = await api.post<{ data: { holders: number }[] }>(`/fund/distributions/${day}`);
      message.success(t('fund.distributed', { holders: done.data.reduce((n, d) => n + d.holders, 0) }));
      report.reload();
    } catch (error) {
      message.error(errorText(t, error));
    }
  };
  return (
    <>
      <PageHead title={t('fund.title')} />
      <LoadError error={report.error} />
      <Card title={t('fund.declare')} style={{ marginBottom: 16 }}>
        <Form form={form} layout="inline" style={{ rowGap: 8 }} requiredMark={false}>
          <Form.Item
            label={t('fund.product')}
            name="product"
            rules={[{ required: true, message: t('common.required') }]}
          >
            <Select
              style={{ width: 140 }}
              options={(r?.products ?? []).map((p) => ({ value: p.productCode, label: p.productCode }))}
              notFoundContent={t('fund.noProducts')}
            />
          </Form.Item>
          <Form.Item label={t('fund.day')} name="day" rules={[{ required: true, message: t('common.required') }]}>
            <Input type="date" />
          </Form.Item>
          <Form.Item
            label={t('fund.per10k')}
            name="per10k"
            rules={[{ required: true, pattern: /^[0-9]{1,3}(\.[0-9]{1,4})?$/, message: t('common.required') }]}
          >
            <Input style={{ width: 120 }} inputMode="decimal" placeholder="0.6543" />
          </Form.Item>
          <Button type="primary" onClick={declare} loading={busy}>
            {t('fund.declare')}
          </Button>
        </Form>
      </Card>
      <Table
        rowKey={(d) => `${d.productCode}/${d.day}`}
        loading={report.loading}
        dataSource={r?.declarations ?? []}
        locale={{ emptyText: t('common.empty') }}
        scroll={{ x: true }}
        style={{ marginBottom: 16 }}
        columns={[
          { title: t('fund.day'), dataIndex: 'day' },
          { title: t('fund.product'), dataIndex: 'productCode' },
          { title: t('fund.per10k'), dataIndex: 'per10k' },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (s: string) => (
              <Status tone={s === 'DONE' ? 'success' : 'processing'}>{t(`fund.status.${s}` as Key)}</Status>
            ),
          },
          { title: t('fund.holders'), dataIndex: 'holders', render: (h: number | null) => h ?? '—' },
          { title: t('fund.total'), dataIndex: 'totalAmount', render: (v: string | null) => <Money amount={v} /> },
          { title: t('common.time'), dataIndex: 'declaredAt', render: (v: string) => <Time iso={v} /> },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_, d) =>
              d.status === 'DONE' ? null : (
                <Button size="small" onClick={() => distribute(d.day)}>
                  {t('fund.distribute')}
                </Button>
              ),
          },
        ]}
      />
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={12}>
          <Card title={t('fund.products')}>
            <Table
              size="small"
              rowKey="productCode"
              pagination={false}
              dataSource={r?.products ?? []}
              locale={{ emptyText: t('fund.noProducts') }}
              columns={[
                { title: t('fund.product'), dataIndex: 'productCode' },
                { title: t('fund.holders'), dataIndex: 'holders' },
                {
                  title: t('fund.shares'),
                  dataIndex: 'sharesOutstanding',
                  render: (v: string) => <Money amount={v} />,
                },
                { title: t('fund.custodian'), dataIndex: 'custodian', render: (v: string) => <Money amount={v} /> },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card title={t('fund.pools')}>
            <Table
              size="small"
              rowKey="companyCode"
              pagination={false}
              dataSource={r?.pools ?? []}
              locale={{ emptyText: t('common.empty') }}
              columns={[
                { title: t('fund.company'), dataIndex: 'companyCode' },
                { title: t('fund.pool'), dataIndex: 'pool', render: (v: string) => <Money amount={v} /> },
                { title: t('fund.demand'), dataIndex: 'dayDemand', render: (v: string) => <Money amount={v} /> },
                {
                  title: t('reserves.coverage'),
                  dataIndex: 'coveragePercent',
                  render: (v: string | null, p) => (
                    <Status tone={p.covered ? 'success' : 'error'}>{v === null ? '—' : `${v}%`}</Status>
                  ),
                },
              ]}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}
