/** The operations console under `/console` (issue 17 §2): its pages come here. */
import { Result } from 'antd';

export function App() {
  return <Result status="info" title="Paybao 运营后台 · Operations console" subTitle="Coming soon." />;
}
