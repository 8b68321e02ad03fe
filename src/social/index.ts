/** Social payments: friends, blocks, contact matching, groups of friends, red packets (docs/social.md). */

export { type CollectionInput, Collections, type CollectionView } from './collections.ts';
export { type Draw, drawEqual, drawLucky, type Random } from './draw.ts';
export { isSocialError, SocialError, type SocialErrorCode, socialErrors } from './errors.ts';
export {
  type FriendRequestView,
  Friends,
  type FriendView,
  maskName,
  type PersonView,
  type ProfileView,
  type SocialParties,
  type SocialUser,
  type TransferRule,
} from './friends.ts';
export { type GroupSummary, Groups, type GroupView } from './groups.ts';
export { socialMigrations } from './migrations.ts';
export { type Notice, type NoticeKind, Notices } from './notices.ts';
export {
  type GrabView,
  grabTransferId,
  type PacketOutcome,
  type PacketView,
  packetAccountId,
  RedPackets,
  type SendInput,
} from './red-packets.ts';
export { Social } from './social.ts';
export { type RedPacketViolation, verifyRedPackets } from './verify.ts';
