/** The portal's login: phone and password send a texted code, then the code opens the session. */
import { Alert, Button, Card, Form, Input, Space, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { useLocale } from '../../shared/i18n.tsx';
import { api, type Me, sessions, useSessionToken } from '../client.ts';
import { useT } from '../messages.ts';
import { errorText } from '../ui.tsx';

interface Fields {
  phone: string;
  password: string;
  code?: string;
}

export function Login() {
  const t = useT();
  const { locale, setLocale } = useLocale();
  const [form] = Form.useForm<Fields>();
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from ?? '/';
  const token = useSessionToken();
  const [error, setError] = useState<string | null>(null);
  const [sent, setSent] = useState(false);
  const [wait, setWait] = useState(0);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (wait <= 0) return;
    const timer = setTimeout(() => setWait((s) => s - 1), 1000);
    return () => clearTimeout(timer);
  }, [wait]);
  if (token) return <Navigate to={from} replace />;

  const sendCode = async () => {
    setError(null);
    const { phone, password } = await form.validateFields(['phone', 'password']);
    setBusy(true);
    try {
      await api.post('/sessions/code', { phone, password });
      setSent(true);
      setWait(60);
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };
  const submit = async ({ phone, password, code }: Fields) => {
    setError(null);
    setBusy(true);
    try {
      const session = await api.post<{ token: string; expires_at: string; staff: Me }>('/sessions', {
        phone,
        password,
        sms_code: code,
      });
      sessions.set({ token: session.token, userId: session.staff.staff_id, expiresAt: session.expires_at });
      navigate(from, { replace: true });
    } catch (e) {
      setError(errorText(t, e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <Card>
        <Space orientation="vertical" size="middle" style={{ width: '100%' }}>
          <div style={{ display: 'flex', justifyContent: 'space-between', alignItems: 'center' }}>
            <Typography.Title level={1} style={{ margin: 0, fontSize: 24 }}>
              {t('app.name')}
            </Typography.Title>
            <Button
              size="small"
              onClick={() => setLocale(locale === 'zh' ? 'en' : 'zh')}
              title={t('lang.label')}
              lang={locale === 'zh' ? 'en' : 'zh-CN'}
            >
              {t('lang.switch')}
            </Button>
          </div>
          <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
            {t('login.subtitle')}
          </Typography.Paragraph>
          {error && <Alert type="error" title={error} showIcon />}
          {sent && !error && <Alert type="success" title={t('login.codeSent')} showIcon />}
          <Form form={form} layout="vertical" onFinish={submit} requiredMark={false}>
            <Form.Item
              name="phone"
              label={t('login.phone')}
              rules={[{ required: true, message: t('login.needPhone') }]}
            >
              <Input autoComplete="username" inputMode="tel" />
            </Form.Item>
            <Form.Item
              name="password"
              label={t('login.password')}
              rules={[{ required: true, message: t('login.needPassword') }]}
            >
              <Input.Password autoComplete="current-password" />
            </Form.Item>
            <Form.Item label={t('login.code')} required>
              <Space.Compact style={{ width: '100%' }}>
                <Form.Item
                  name="code"
                  noStyle
                  rules={[{ required: true, pattern: /^\d{6}$/, message: t('login.needCode') }]}
                >
                  <Input inputMode="numeric" autoComplete="one-time-code" maxLength={6} aria-label={t('login.code')} />
                </Form.Item>
                <Button onClick={sendCode} disabled={wait > 0 || busy}>
                  {wait > 0 ? t('login.resendIn', { s: wait }) : t('login.sendCode')}
                </Button>
              </Space.Compact>
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy} disabled={!sent}>
              {t('login.submit')}
            </Button>
          </Form>
        </Space>
      </Card>
    </main>
  );
}
