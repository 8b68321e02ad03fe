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
  social_red_packets: {
    packet_id: string;
    sender_id: string;
    idempotency_key: string;
    request_hash: string;
    kind: PacketKind;
    target_kind: TargetKind;
    target_id: string;
    amount_fen: bigint;
    shares: number;
    greeting: string;
    account_id: string;
    remaining_fen: bigint;
    remaining_shares: number;
    status: PacketStatus;
    error_code: string | null;
    refunded_fen: bigint | null;
    created_at: Date;
    expires_at: Date;
    closed_at: Date | null;
  };
  social_red_packet_grabs: {
    packet_id: string;
    user_id: string;
    seq: number;
    amount_fen: bigint;
    low_fen: bigint;
    high_fen: bigint;
    grabbed_at: Date;
    paid_at: Date | null;
  };
  social_collections: {
    collection_id: string;
    requester_id: string;
    idempotency_key: string;
    request_hash: string;
    group_id: string;
    title: string;
    status: 'OPEN' | 'CLOSED';
    created_at: Date;
    closes_at: Date;
    reminded_at: Date | null;
    closed_at: Date | null;
  };
  social_collection_shares: { collection_id: string; user_id: string; amount_fen: bigint; paid_at: Date | null };
  social_notices: { notice_id: string; user_id: string; kind: string; message: string; ref: string; created_at: Date };
}

export type PacketKind = 'SINGLE' | 'EQUAL' | 'LUCKY';
/** Whom a packet is for: one friend, a group's members, or anyone (a campaign). */
export type TargetKind = 'USER' | 'GROUP' | 'CAMPAIGN';
export type PacketStatus = 'FUNDING' | 'FAILED' | 'OPEN' | 'FINISHED' | 'EXPIRED';

export type RequestStatus = 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'CANCELLED';
