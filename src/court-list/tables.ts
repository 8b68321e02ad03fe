import type { Generated } from 'kysely';

/** The court list's tables (migrations.ts) as Kysely sees them, for `typed<CourtListTables>(q)`. */
export interface CourtListTables {
  court_list_entries: {
    entry_id: string;
    id_sha256: string;
    case_number: string;
    name: string;
    court: string;
    listing_date: string;
    grounds: string;
    expiry_date: string;
    source: 'import' | 'console';
    created_at: Date;
    created_by: string;
    updated_at: Date;
    removed_at: Date | null;
    removed_reason: string | null;
    removed_by: string | null;
  };
  court_list_changes: {
    change_id: Generated<bigint>;
    entry_id: string;
    action: 'added' | 'updated' | 'removed';
    at: Date;
    actor: string;
    reason: string | null;
    before: string | null;
  };
  court_list_imports: {
    import_id: string;
    file_sha256: string;
    file_name: string;
    at: Date;
    actor: string;
    lines: bigint;
    added: bigint;
    updated: bigint;
    removed: bigint;
    unchanged: bigint;
  };
  court_list_restricted_categories: {
    category: string;
    set_at: Date;
    set_by: string;
  };
}
