/** The home page's action icons (antd-mobile-icons: SVG components, no icon font to fetch). */
import {
  ArrowDownCircleOutline,
  BankcardOutline,
  CollectMoneyOutline,
  ScanningOutline,
  SendOutline,
  TransportQRcodeOutline,
} from 'antd-mobile-icons';

export type ActionName = 'pay' | 'scan' | 'transfer' | 'topUp' | 'withdraw' | 'cards';

const icons = {
  pay: TransportQRcodeOutline,
  scan: ScanningOutline,
  transfer: SendOutline,
  topUp: CollectMoneyOutline,
  withdraw: ArrowDownCircleOutline,
  cards: BankcardOutline,
} as const;

export function ActionIcon({ name }: { name: ActionName }) {
  const Icon = icons[name];
  return <Icon aria-hidden />;
}
