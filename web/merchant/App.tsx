/** The merchant portal under `/merchant` (issue 17 §1): its pages come here. */
import { Result } from 'antd';

export function App() {
  return <Result status="info" title="Paybao 商家中心 · Merchant portal" subTitle="Coming soon." />;
}
