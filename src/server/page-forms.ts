/**
 * The one body parser of the server-rendered pages (cashier, card cashier, wallet): they take
 * only what a browser's form sends, `application/x-www-form-urlencoded`, parsed into plain
 * strings. A field sent twice is refused (which copy would count is a guess, and a route that
 * expects a string must never meet a list); any other content type is a 415. Refusals become the
 * pages' HTML through `refusals.ts`.
 */
import type { FastifyInstance } from 'fastify';
import { repeatedParameter } from './refusals.ts';

/** A browser form as one string per field. */
export type FormFields = Record<string, string | undefined>;

/** Parses `a=1&b=2` into fields; throws the edge's refusal when a field repeats. */
export function parseForm(text: string): FormFields {
  const fields: Record<string, string> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    if (Object.hasOwn(fields, key)) throw repeatedParameter(key);
    fields[key] = value;
  }
  return fields;
}

/** Makes `scope` take browser forms and nothing else. */
export function acceptPageForms(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseForm(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
