/** The operator's login: name and password, a session of a working day. */
import { App as AntApp, Button, Card, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { useLocale } from '../../shared/i18n.tsx';
import { api, errorText, type Me, sessions } from '../client.ts';
import { useT } from '../messages.ts';

export function Login() {
  const t = useT();
  const { locale, setLocale } = useLocale();
  const { message } = AntApp.useApp();
  const [busy, setBusy] = useState(false);
  const submit = async (values: { name: string; password: string }) => {
    setBusy(true);
    try {
      const session = await api.post<{ token: string; expires_at: string; operator: Me }>('/sessions', values);
      sessions.set({ token: session.token, userId: session.operator.operator_id, expiresAt: session.expires_at });
    } catch (error) {
      message.error(errorText(t, error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="console-login">
      <Card
        title={
          <Typography.Title level={1} style={{ fontSize: 20, margin: 0 }}>
            {t('login.title')}
          </Typography.Title>
        }
        extra={
          <Button id="lang-switch" type="link" onClick={() => setLocale(locale === 'zh' ? 'en' : 'zh')}>
            {t('lang.switch')}
          </Button>
        }
      >
        <Typography.Paragraph type="secondary">{t('login.subtitle')}</Typography.Paragraph>
        <Form layout="vertical" onFinish={submit} requiredMark={false}>
          <Form.Item label={t('login.name')} name="name" rules={[{ required: true, message: t('common.required') }]}>
            <Input id="name" autoComplete="username" />
          </Form.Item>
          <Form.Item
            label={t('login.password')}
            name="password"
            rules={[{ required: true, message: t('common.required') }]}
          >
            <Input.Password id="password" autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
            {t('login.submit')}
          </Button>
        </Form>
      </Card>
    </main>
  );
}
