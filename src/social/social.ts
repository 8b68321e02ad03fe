import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Risk } from '../risk/index.ts';
import { Collections } from './collections.ts';
import type { Random } from './draw.ts';
import { Friends, type SocialParties } from './friends.ts';
import { Groups } from './groups.ts';
import { Notices } from './notices.ts';
import { RedPackets } from './red-packets.ts';

/**
 * Social payments (issue 15): friends and groups, red packets, collection requests (AA), the
 * notices users get. Transfers to friends are the wallet's, under `friends.transferRule`.
 */
export class Social {
  readonly friends: Friends;
  readonly groups: Groups;
  readonly redPackets: RedPackets;
  readonly collections: Collections;
  readonly notices: Notices;

  constructor(
    db: Db,
    ledger: Ledger,
    parties: SocialParties,
    clock: Clock,
    options: { random?: Random | undefined; risk?: Risk | undefined } = {},
  ) {
    this.friends = new Friends(db, parties, clock);
    this.groups = new Groups(db, this.friends, clock);
    this.notices = new Notices(db, clock);
    this.redPackets = new RedPackets(
      db,
      ledger,
      this.friends,
      this.groups,
      parties,
      clock,
      this.notices,
      options.random,
      options.risk,
    );
    this.collections = new Collections(
      db,
      ledger,
      this.friends,
      this.groups,
      parties,
      this.notices,
      clock,
      options.risk,
    );
  }

  /** The server's job: red packets' refunds and unpaid grabs, collections' reminders and closing. */
  async sweep(): Promise<void> {
    await this.redPackets.sweep();
    await this.collections.sweep();
  }
}
