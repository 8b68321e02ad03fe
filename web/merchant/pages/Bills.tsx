/** Trade bills: the CSV of a day or a month of one app, behind the short-lived link the gateway also hands out. */
import { App as AntApp, Button, Card, DatePicker, Form, Radio, Select, Space, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { type AppInfo, api } from '../client.ts';
import { useT } from '../messages.ts';
import { beijingToday, errorText, Loading, useLoad, useMay } from '../ui.tsx';

interface Fields {
  app_id: string;
  kind: 'day' | 'month';
  date: Dayjs;
}

export default function Bills() {
  const t = useT();
  const may = useMay();
  const { message } = AntApp.useApp();
  const apps = useLoad(() => api.get<{ data: AppInfo[] }>('/apps'), []);
  const [form] = Form.useForm<Fields>();
  const kind = Form.useWatch('kind', form) ?? 'day';
  const [link, setLink] = useState<{ url: string; file: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const get = async (f: Fields) => {
    const billDate = f.date.format(f.kind === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM');
    setBusy(true);
    setLink(null);
    try {
      const { url } = await api.post<{ url: string }>('/bills', { app_id: f.app_id, bill_date: billDate });
      setLink({ url, file: `${f.app_id}_${billDate}.csv` });
    } catch (e) {
      message.error(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Typography.Title level={2} className="page-title">
        {t('bills.title')}
      </Typography.Title>
      <Card size="small">
        <Typography.Paragraph type="secondary">{t('bills.help')}</Typography.Paragraph>
        {!may('bills') && <Typography.Paragraph type="warning">{t('error.role_forbidden')}</Typography.Paragraph>}
        <Loading loaded={apps}>
          {(a) => (
            <Form
              form={form}
              layout="vertical"
              onFinish={get}
              initialValues={{ app_id: a.data[0]?.app_id, kind: 'day', date: beijingToday() }}
              style={{ maxWidth: 480 }}
            >
              <Form.Item name="app_id" label={t('bills.app')} rules={[{ required: true }]}>
                <Select options={a.data.map((x) => ({ value: x.app_id, label: `${x.name} · ${x.app_id}` }))} />
              </Form.Item>
              <Form.Item name="kind" label={t('bills.kind')}>
                <Radio.Group
                  options={[
                    { value: 'day', label: t('bills.day') },
                    { value: 'month', label: t('bills.month') },
                  ]}
                  optionType="button"
                />
              </Form.Item>
              <Form.Item name="date" label={t('bills.date')} rules={[{ required: true }]}>
                <DatePicker
                  picker={kind === 'month' ? 'month' : 'date'}
                  disabledDate={(d) => d.isAfter(beijingToday(), 'day')}
                />
              </Form.Item>
              <Space orientation="vertical">
                <Button type="primary" htmlType="submit" loading={busy} disabled={!may('bills')}>
                  {t('bills.get')}
                </Button>
                {link && (
                  <>
                    <a href={link.url} download={link.file}>
                      {t('bills.download', { file: link.file })}
                    </a>
                    <Typography.Text type="secondary">{t('bills.linkLife')}</Typography.Text>
                  </>
                )}
              </Space>
            </Form>
          )}
        </Loading>
      </Card>
    </>
  );
}
