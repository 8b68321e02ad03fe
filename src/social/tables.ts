/** The social module's tables as Kysely sees them (src/core/db/typed.ts); see migrations.ts. */
export interface SocialTables {
  social_profiles: {
    user_id: string;
    nickname: string | null;
    discoverable: boolean;
    show_score_band: boolean;
    updated_at: Date;
  };
  social_friend_requests: {
    request_id: string;
    from_user_id: string;
    to_user_id: string;
    message: string;
    status: RequestStatus;
    created_at: Date;
    decided_at: Date | null;
  };
  social_friends: { user_id: string; friend_id: string; since: Date };
  social_blocks: { user_id: string; blocked_id: string; created_at: Date };
  social_groups: { group_id: string; owner_id: string; name: string; created_at: Date };
  social_group_members: { group_id: string; user_id: string; joined_at: Date };
}

export type RequestStatus = 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'CANCELLED';
