/** The merchant's staff and their roles; the owner adds members. */
import { App as AntApp, Button, Card, Form, Input, Select, Table, Typography } from 'antd';
import { api, type Role, type StaffMember } from '../client.ts';
import { useT } from '../messages.ts';
import { errorText, Loading, useLoad, useMay } from '../ui.tsx';

export default function Staff() {
  const t = useT();
  const may = useMay();
  const { message } = AntApp.useApp();
  const staff = useLoad(() => api.get<{ data: StaffMember[] }>('/staff'), []);
  const [form] = Form.useForm();
  const add = async (f: { name: string; phone: string; password: string; role: Role }) => {
    try {
      await api.post('/staff', f);
      message.success(t('staff.added', { name: f.name }));
      form.resetFields();
      staff.reload();
    } catch (e) {
      message.error(errorText(t, e));
    }
  };
  const roles: Role[] = ['owner', 'finance', 'support'];
  return (
    <>
      <Typography.Title level={2} className="page-title">
        {t('staff.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('staff.roles')}</Typography.Paragraph>
      <Card size="small" style={{ marginBottom: 16 }}>
        <Loading loaded={staff}>
          {(d) => (
            <Table<StaffMember>
              rowKey="staff_id"
              dataSource={d.data}
              size="small"
              pagination={false}
              columns={[
                { title: t('staff.name'), dataIndex: 'name' },
                { title: t('staff.phone'), dataIndex: 'phone', className: 'nowrap' },
                { title: t('staff.role'), dataIndex: 'role', render: (r: Role) => t(`role.${r}`) },
              ]}
            />
          )}
        </Loading>
      </Card>
      {may('staff') && (
        <Card size="small" title={t('staff.add')}>
          <Form
            form={form}
            layout="vertical"
            onFinish={add}
            style={{ maxWidth: 480 }}
            initialValues={{ role: 'support' }}
          >
            <Form.Item name="name" label={t('staff.name')} rules={[{ required: true, whitespace: true }]}>
              <Input maxLength={64} />
            </Form.Item>
            <Form.Item name="phone" label={t('staff.phone')} rules={[{ required: true }]}>
              <Input inputMode="tel" />
            </Form.Item>
            <Form.Item name="password" label={t('staff.password')} rules={[{ required: true, min: 8 }]}>
              <Input.Password autoComplete="new-password" />
            </Form.Item>
            <Form.Item name="role" label={t('staff.role')}>
              <Select options={roles.map((r) => ({ value: r, label: t(`role.${r}`) }))} />
            </Form.Item>
            <Button type="primary" htmlType="submit">
              {t('staff.add')}
            </Button>
          </Form>
        </Card>
      )}
    </>
  );
}
