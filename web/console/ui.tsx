/** What the console's pages share: a page's head, a refusal shown in words, amounts and times. */
import { Alert, App as AntApp, Badge, Form, type FormInstance, Input, Modal, Typography } from 'antd';
import { type ReactNode, useState } from 'react';
import { formatTime, useLocale } from '../shared/i18n.tsx';
import { yuan } from '../shared/money.ts';
import { errorText } from './client.ts';
import { useT } from './messages.ts';

export function PageHead({ title, subtitle, extra }: { title: string; subtitle?: string; extra?: ReactNode }) {
  return (
    <div className="page-head">
      <div>
        <Typography.Title level={1}>{title}</Typography.Title>
        {subtitle ? <Typography.Text type="secondary">{subtitle}</Typography.Text> : null}
      </div>
      {extra}
    </div>
  );
}

/** A load's refusal, in words, above the page's content. */
export function LoadError({ error }: { error: unknown }) {
  const t = useT();
  if (!error) return null;
  return <Alert type="error" showIcon title={errorText(t, error)} style={{ marginBottom: 16 }} />;
}

export function Money({ amount }: { amount: string | null | undefined }) {
  if (amount === null || amount === undefined) return <span>—</span>;
  return <span className="nowrap">{yuan(amount)}</span>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  const { locale } = useLocale();
  if (!iso) return <span>—</span>;
  return <span className="nowrap">{formatTime(iso, locale)}</span>;
}

/**
 * A status in words with a coloured dot: the words keep the text colour (Ant Design's coloured
 * tags put orange or green text on a pale ground, under AA contrast).
 */
export function Status({
  tone,
  children,
  testId,
}: {
  tone: 'success' | 'warning' | 'error' | 'processing' | 'default';
  children: ReactNode;
  testId?: string;
}) {
  return (
    <span className="nowrap" data-testid={testId}>
      <Badge status={tone} text={children} />
    </span>
  );
}

/**
 * An operator's action in a dialog around a form: the fields are checked, the action is sent, the
 * operator is told it was done (or why not, and the dialog stays), and the page reloads what it
 * shows once it closes done. The submit button carries `submitId` for the browser tests.
 */
export function ActionModal<V extends object>({
  title,
  submitId,
  danger,
  form,
  initialValues,
  send,
  done,
  onClose,
  children,
}: {
  title: string;
  submitId: string;
  danger?: boolean;
  /** The form, when a field's value changes what else the dialog shows (`Form.useWatch`). */
  form?: FormInstance<V>;
  initialValues?: Partial<V>;
  send(values: V): Promise<unknown>;
  /** What the operator is told once the action is done. */
  done: string;
  onClose(done: boolean): void;
  children: ReactNode;
}) {
  const t = useT();
  const { message } = AntApp.useApp();
  const [own] = Form.useForm<V>();
  const used = form ?? own;
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    const values = await used.validateFields();
    setBusy(true);
    try {
      await send(values);
      message.success(done);
      onClose(true);
    } catch (error) {
      message.error(errorText(t, error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      title={title}
      okText={t('common.confirm')}
      cancelText={t('common.cancel')}
      okButtonProps={{ id: submitId, danger: danger === true }}
      confirmLoading={busy}
      onOk={submit}
      onCancel={() => onClose(false)}
    >
      <Form form={used} layout="vertical" requiredMark={false} initialValues={initialValues}>
        {children}
      </Form>
    </Modal>
  );
}

/** The server's `limits.operatorReasonLengthMax`: the longest note or reason an operator may give. */
const noteLengthMax = 500;

/** The note or reason an action is written to the audit log with: required unless `optional`. */
export function NoteField({
  name,
  label,
  optional,
  rows = 3,
}: {
  name: string;
  label: string;
  optional?: boolean;
  rows?: number;
}) {
  const t = useT();
  return (
    <Form.Item
      label={label}
      name={name}
      rules={optional ? [] : [{ required: true, whitespace: true, message: t('common.required') }]}
    >
      <Input.TextArea rows={rows} maxLength={noteLengthMax} />
    </Form.Item>
  );
}
