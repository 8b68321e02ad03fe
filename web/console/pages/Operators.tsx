/** Operators and their roles: the administrator's page. */
import { App as AntApp, Button, Form, Input, Modal, Select, Table, Tag } from 'antd';
import { useState } from 'react';
import { api, errorText, type Role, useLoad } from '../client.ts';
import { type Key, useT } from '../messages.ts';
import { LoadError, PageHead, Time } from '../ui.tsx';

interface Operator {
  operator_id: string;
  name: string;
  roles: Role[];
  can_log_in: boolean;
  created_at: string;
}

const roles: Role[] = ['dispute_reviewer', 'finance', 'risk', 'administrator'];

export default function Operators() {
  const t = useT();
  const { message } = AntApp.useApp();
  const list = useLoad(() => api.get<{ data: Operator[] }>('/operators'), []);
  const [creating, setCreating] = useState(false);
  const [form] = Form.useForm<{ name: string; password: string; roles: Role[] }>();
  const setRoles = async (o: Operator, next: Role[]) => {
    if (next.length === 0) return;
    try {
      await api.put(`/operators/${o.operator_id}/roles`, { roles: next });
      list.reload();
    } catch (error) {
      message.error(errorText(t, error));
    }
  };
  const create = async () => {
    const v = await form.validateFields();
    try {
      await api.post('/operators', v);
      message.success(t('operators.created', { name: v.name }));
      setCreating(false);
      form.resetFields();
      list.reload();
    } catch (error) {
      message.error(errorText(t, error));
    }
  };
  const roleOptions = roles.map((r) => ({ value: r, label: t(`role.${r}` as Key) }));
  return (
    <>
      <PageHead
        title={t('operators.title')}
        extra={
          <Button type="primary" onClick={() => setCreating(true)}>
            {t('operators.new')}
          </Button>
        }
      />
      <LoadError error={list.error} />
      <Table<Operator>
        rowKey="operator_id"
        loading={list.loading}
        dataSource={list.data?.data ?? []}
        scroll={{ x: true }}
        columns={[
          { title: t('operators.name'), dataIndex: 'name' },
          {
            title: t('operators.roles'),
            key: 'roles',
            render: (_, o) => (
              <Select
                aria-label={t('operators.roles')}
                mode="multiple"
                value={o.roles}
                style={{ minWidth: 260 }}
                options={roleOptions}
                onChange={(next) => setRoles(o, next)}
              />
            ),
          },
          {
            title: t('operators.canLogIn'),
            dataIndex: 'can_log_in',
            render: (v: boolean) => <Tag>{v ? t('common.yes') : t('common.no')}</Tag>,
          },
          { title: t('common.time'), dataIndex: 'created_at', render: (v: string) => <Time iso={v} /> },
        ]}
      />
      <Modal
        open={creating}
        title={t('operators.new')}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        onOk={create}
        onCancel={() => setCreating(false)}
      >
        <Form form={form} layout="vertical" initialValues={{ roles: ['dispute_reviewer'] }} requiredMark={false}>
          <Form.Item
            label={t('operators.name')}
            name="name"
            rules={[{ required: true, message: t('common.required') }]}
          >
            <Input />
          </Form.Item>
          <Form.Item
            label={t('login.password')}
            name="password"
            rules={[{ required: true, min: 8, message: t('common.required') }]}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item
            label={t('operators.roles')}
            name="roles"
            rules={[{ required: true, message: t('common.required') }]}
          >
            <Select mode="multiple" options={roleOptions} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
