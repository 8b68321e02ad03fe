/** Trades: filters (dates, status, amount, order number, buyer, app) kept in the address, a paged table. */
import { Button, Card, Col, DatePicker, Form, Input, Row, Select, Space, Table, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { Link, useSearchParams } from 'react-router';
import { yuan } from '../../shared/money.ts';
import { type AppInfo, api, type Trade } from '../client.ts';
import { useT } from '../messages.ts';
import { beijingDayStart, Empty, Loading, Scrollable, StatusTag, useLoad, useTime } from '../ui.tsx';

/** The Beijing day an instant falls in, as a picker's date. */
const beijingDay = (iso: string) => dayjs(new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 10));

const statuses = [
  'WAIT_BUYER_PAY',
  'TRADE_SUCCESS',
  'WAIT_SELLER_SEND_GOODS',
  'WAIT_BUYER_CONFIRM_GOODS',
  'TRADE_FINISHED',
  'TRADE_CLOSED',
] as const;
const filterNames = ['from', 'to', 'status', 'min_amount', 'max_amount', 'out_trade_no', 'buyer', 'app_id'] as const;

interface Fields {
  range?: [Dayjs, Dayjs] | null;
  status?: string[];
  min_amount?: string;
  max_amount?: string;
  out_trade_no?: string;
  buyer?: string;
  app_id?: string;
}

export default function Trades() {
  const t = useT();
  const time = useTime();
  const [params, setParams] = useSearchParams();
  const [form] = Form.useForm<Fields>();
  const query = Object.fromEntries(filterNames.map((n) => [n, params.get(n) ?? undefined]));
  const page = Number(params.get('page') ?? '1');
  const pageSize = Number(params.get('page_size') ?? '20');
  const key = params.toString();
  const trades = useLoad(
    () =>
      api.get<{ total: number; data: Trade[] }>('/trades', {
        ...query,
        page: String(page),
        page_size: String(pageSize),
      }),
    [key],
  );
  const apps = useLoad(() => api.get<{ data: AppInfo[] }>('/apps'), []);
  const initial: Fields = {
    range: query.from && query.to ? [beijingDay(query.from), beijingDay(query.to).subtract(1, 'day')] : null,
    status: query.status?.split(','),
    min_amount: query.min_amount,
    max_amount: query.max_amount,
    out_trade_no: query.out_trade_no,
    buyer: query.buyer,
    app_id: query.app_id,
  };
  const search = (f: Fields) => {
    const next = new URLSearchParams();
    if (f.range) {
      next.set('from', beijingDayStart(f.range[0]));
      next.set('to', beijingDayStart(f.range[1].add(1, 'day')));
    }
    if (f.status?.length) next.set('status', f.status.join(','));
    for (const name of ['min_amount', 'max_amount', 'out_trade_no', 'buyer', 'app_id'] as const) {
      const value = f[name]?.trim();
      if (value) next.set(name, value);
    }
    setParams(next);
  };
  return (
    <>
      <Typography.Title level={2} className="page-title">
        {t('trades.title')}
      </Typography.Title>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Form form={form} layout="vertical" className="filters" initialValues={initial} onFinish={search}>
          <Row gutter={12}>
            <Col xs={24} md={12} xl={8}>
              <Form.Item name="range" label={t('trades.range')}>
                <DatePicker.RangePicker style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col xs={24} md={12} xl={8}>
              <Form.Item name="status" label={t('trades.status')}>
                <Select
                  mode="multiple"
                  allowClear
                  options={statuses.map((s) => ({ value: s, label: t(`trade.${s}`) }))}
                />
              </Form.Item>
            </Col>
            <Col xs={12} md={6} xl={4}>
              <Form.Item name="min_amount" label={t('trades.minAmount')} rules={[{ pattern: /^\d+(\.\d{1,2})?$/ }]}>
                <Input inputMode="decimal" />
              </Form.Item>
            </Col>
            <Col xs={12} md={6} xl={4}>
              <Form.Item name="max_amount" label={t('trades.maxAmount')} rules={[{ pattern: /^\d+(\.\d{1,2})?$/ }]}>
                <Input inputMode="decimal" />
              </Form.Item>
            </Col>
            <Col xs={24} md={12} xl={8}>
              <Form.Item name="out_trade_no" label={t('trades.outTradeNo')}>
                <Input />
              </Form.Item>
            </Col>
            <Col xs={24} md={12} xl={8}>
              <Form.Item name="buyer" label={t('trades.buyer')}>
                <Input />
              </Form.Item>
            </Col>
            <Col xs={24} md={12} xl={8}>
              <Form.Item name="app_id" label={t('trades.app')}>
                <Select
                  allowClear
                  placeholder={t('trades.anyApp')}
                  options={(apps.data?.data ?? []).map((a) => ({ value: a.app_id, label: `${a.name} · ${a.app_id}` }))}
                />
              </Form.Item>
            </Col>
          </Row>
          <Space>
            <Button type="primary" htmlType="submit">
              {t('common.search')}
            </Button>
            <Button
              onClick={() => {
                form.resetFields();
                form.setFieldsValue({
                  range: null,
                  status: [],
                  min_amount: '',
                  max_amount: '',
                  out_trade_no: '',
                  buyer: '',
                  app_id: undefined,
                });
                setParams(new URLSearchParams());
              }}
            >
              {t('common.reset')}
            </Button>
          </Space>
        </Form>
      </Card>
      <Card size="small">
        <Loading loaded={trades}>
          {(data) => (
            <Scrollable label={t('trades.title')}>
              <Table<Trade>
                rowKey="trade_no"
                dataSource={data.data}
                size="middle"
                scroll={{ x: 900 }}
                locale={{ emptyText: <Empty text={t('trades.empty')} /> }}
                pagination={{
                  current: page,
                  pageSize,
                  total: data.total,
                  showTotal: (n) => t('common.total', { n }),
                  onChange: (p, size) => {
                    const next = new URLSearchParams(params);
                    next.set('page', String(p));
                    next.set('page_size', String(size));
                    setParams(next);
                  },
                }}
                columns={[
                  {
                    title: t('trades.tradeNo'),
                    dataIndex: 'trade_no',
                    render: (no: string) => (
                      <Link to={`/trades/${no}`} className="mono">
                        {no}
                      </Link>
                    ),
                  },
                  { title: t('trades.outTradeNo'), dataIndex: 'out_trade_no', className: 'nowrap' },
                  { title: t('trades.subject'), dataIndex: 'subject' },
                  {
                    title: t('trades.amount'),
                    dataIndex: 'total_amount',
                    align: 'right',
                    className: 'nowrap',
                    render: (a: string) => yuan(a),
                  },
                  {
                    title: t('trades.status'),
                    dataIndex: 'status',
                    render: (s: string) => <StatusTag kind="trade" status={s} />,
                  },
                  { title: t('detail.buyer'), dataIndex: 'buyer_logon_id', render: (b: string | null) => b ?? '—' },
                  { title: t('trades.created'), dataIndex: 'created_at', className: 'nowrap', render: time },
                ]}
              />
            </Scrollable>
          )}
        </Loading>
      </Card>
    </>
  );
}
