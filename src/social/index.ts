/** Social payments: friends, blocks, contact matching, groups of friends (docs/social.md). */
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
export { Social } from './social.ts';
