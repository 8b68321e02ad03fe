import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { Friends, type SocialParties } from './friends.ts';
import { Groups } from './groups.ts';

/** Social payments (issue 15): friends and groups today; transfers to friends are the wallet's, under `friends.transferRule`. */
export class Social {
  readonly friends: Friends;
  readonly groups: Groups;

  constructor(db: Db, parties: SocialParties, clock: Clock) {
    this.friends = new Friends(db, parties, clock);
    this.groups = new Groups(db, this.friends, clock);
  }
}
