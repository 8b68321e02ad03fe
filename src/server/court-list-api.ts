/**
 * The courts' list of dishonest debtors in the console (`/console/v1/court-list`, behind the
 * operator's token; roles and audit names in console.ts's `consoleRules`): search the entries,
 * read one with its changes, add one from a court's notice, remove one (the debt met) with its
 * reason, see whether a user is listed, and set the merchant categories a listed user may not
 * pay. A plain identity number sent to add an entry is hashed at once and never logged.
 */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { limits } from '../core/limits.ts';
import type { ChangeView, CourtList, EntryView } from '../court-list/index.ts';

const Strict = { additionalProperties: false } as const;
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const Status = Type.Union([Type.Literal('listed'), Type.Literal('expired'), Type.Literal('removed')]);
// The schema bounds a field's size loosely (UTF-16 units, room for any script); the module checks characters exactly.
const Field = (description: string, max = limits.courtListFieldCharsMax * 4) =>
  Type.String({ maxLength: max, description });
const tags = ['court-list'];

export function entryJson(e: EntryView) {
  return {
    entry_id: e.entryId,
    id_hash: e.idSha256,
    case_number: e.caseNumber,
    name: e.name,
    court: e.court,
    listing_date: e.listingDate,
    grounds: e.grounds,
    expiry_date: e.expiryDate,
    status: e.status,
    source: e.source,
    created_at: e.createdAt.toISOString(),
    created_by: e.createdBy,
    updated_at: e.updatedAt.toISOString(),
    removed_at: e.removedAt?.toISOString() ?? null,
    removed_reason: e.removedReason,
    removed_by: e.removedBy,
  };
}

const changeJson = (c: ChangeView) => ({
  action: c.action,
  at: c.at.toISOString(),
  actor: c.actor,
  reason: c.reason,
  before: c.before,
});

/** The console's court list routes, inside its scope (the operator guard has run). */
export function courtListConsoleRoutes(
  scope: FastifyInstance,
  courtList: CourtList,
  operatorId: (request: unknown) => string,
): void {
  const typed = scope.withTypeProvider<TypeBoxTypeProvider>();
  const EntryParams = Type.Object({ entryId: Uuid }, Strict);
  typed.get(
    '/court-list/entries',
    {
      schema: {
        summary:
          'Court list entries, newest first: of a person (an identity number or its hash), a case number or a name',
        tags,
        querystring: Type.Object(
          {
            q: Type.Optional(Type.String({ maxLength: 128 })),
            status: Type.Optional(Status),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: limits.courtListPageMax })),
          },
          Strict,
        ),
      },
    },
    async (request) => ({ data: (await courtList.entries(request.query)).map(entryJson) }),
  );
  typed.get(
    '/court-list/entries/:entryId',
    { schema: { summary: 'One entry with every change to it', tags, params: EntryParams } },
    async (request) => {
      const entry = await courtList.entry(request.params.entryId);
      return { ...entryJson(entry), changes: entry.changes.map(changeJson) };
    },
  );
  typed.post(
    '/court-list/entries',
    {
      schema: {
        summary: 'Add an entry from a court’s notice (exactly one of id_number and id_hash)',
        tags,
        body: Type.Object(
          {
            id_number: Type.Optional(Field('A plain identity number: hashed at once, never stored or logged.', 64)),
            id_hash: Type.Optional(
              Field('The identity number’s hash under the platform’s key (docs/court-list.md).', 64),
            ),
            name: Field('The person’s name.'),
            case_number: Field('The court’s case number.'),
            court: Field('The court.'),
            listing_date: Field('YYYY-MM-DD.', 10),
            grounds: Field('Why the court lists the person.', limits.courtListTextCharsMax * 4),
            expiry_date: Type.Optional(Field('YYYY-MM-DD; by default the listing date plus two years.', 10)),
          },
          Strict,
        ),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const { entry, created } = await courtList.add(
        {
          idNumber: b.id_number,
          idHash: b.id_hash,
          name: b.name,
          caseNumber: b.case_number,
          court: b.court,
          listingDate: b.listing_date,
          grounds: b.grounds,
          expiryDate: b.expiry_date,
        },
        operatorId(request),
      );
      return reply.code(created ? 201 : 200).send(entryJson(entry));
    },
  );
  typed.post(
    '/court-list/entries/:entryId/removal',
    {
      schema: {
        summary: 'Remove an entry (the debt met): it stays, with when, why and by whom',
        tags,
        params: EntryParams,
        body: Type.Object(
          { reason: Field('Why: the debt met, the court’s notice.', limits.courtListTextCharsMax * 4) },
          Strict,
        ),
      },
    },
    async (request) =>
      entryJson(await courtList.remove(request.params.entryId, request.body.reason, operatorId(request))),
  );
  typed.get(
    '/court-list/users/:userId',
    {
      schema: {
        summary: 'Whether a user is listed today, through their verified real name, and by which entries',
        tags,
        params: Type.Object({ userId: Type.String({ pattern: '^2088[0-9]{12}$' }) }, Strict),
      },
    },
    async (request) => {
      const entries = await courtList.listing(request.params.userId);
      return { user_id: request.params.userId, listed: entries.length > 0, entries: entries.map(entryJson) };
    },
  );
  const Categories = Type.Object({ categories: Type.Array(Type.String({ maxLength: 32 })) });
  typed.get(
    '/court-list/restricted-categories',
    { schema: { summary: 'The merchant categories a listed user may not pay', tags } },
    async () => ({ categories: await courtList.restrictedCategories() }),
  );
  typed.put(
    '/court-list/restricted-categories',
    {
      schema: {
        summary: 'Set the merchant categories a listed user may not pay (the risk engine’s category codes)',
        tags,
        body: Type.Object(
          {
            categories: Type.Array(Type.String({ maxLength: 32 }), { maxItems: limits.courtListCategoriesMax }),
            reason: Type.Optional(Field('Why the setting changes.', limits.courtListTextCharsMax * 4)),
          },
          Strict,
        ),
        response: { 200: Categories },
      },
    },
    async (request) => ({
      categories: await courtList.setRestrictedCategories(request.body.categories, operatorId(request)),
    }),
  );
}
