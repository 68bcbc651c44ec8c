import { Type, type TSchema } from 'typebox';

/**
 * Route schemas for the site's form POSTs (application/x-www-form-urlencoded, parsed by
 * @fastify/formbody: a field is a string, a repeated field an array of strings). Every form route
 * declares its fields; Fastify refuses anything else in shape before the handler runs (an object,
 * a number, a field longer than the limit, too many repeats), and the site's error handler
 * (web/site.ts) answers that with the friendly "bad request" page in the visitor's language,
 * never raw JSON. What a value means (a password too short, a name taken) is the handler's to
 * check, so the page can say what is wrong next to the form.
 */

/** The longest any form value may be (a dashboard page's markdown body is the longest field). */
export const FORM_VALUE_MAX = 200_000;
/** The most values one repeated field may carry (a selection of files in a bulk action). */
export const FORM_REPEATS_MAX = 1000;

/** One form value: a string, or the strings of a repeated field. */
export function formValue(maxLength = FORM_VALUE_MAX): TSchema {
  return Type.Unsafe<string | string[]>({
    type: ['string', 'array'],
    maxLength,
    items: { type: 'string', maxLength },
    maxItems: FORM_REPEATS_MAX,
  });
}

/**
 * The schema of a form's body: the named fields (each optional: a missing field is the handler's
 * friendly message), the CSRF token, and no other kind of value (any other field must still be a
 * string or a list of strings: browsers send the submit button's name too).
 */
export function formBody(fields: readonly string[]) {
  const properties: Record<string, TSchema> = { _csrf: Type.Optional(formValue(200)) };
  for (const name of fields) properties[name] = Type.Optional(formValue());
  return Type.Object(properties, { additionalProperties: formValue() });
}

/** Route options with a form body schema (merged into the route's other options). */
export function formRoute<T extends object>(fields: readonly string[], options?: T): T & { schema: { body: ReturnType<typeof formBody> } } {
  return { ...(options ?? ({} as T)), schema: { body: formBody(fields) } };
}
