/**
 * What the edit services ask moderation about the texts of an edit (stop words, issue 17;
 * docs/MODERATION.md). Moderation's `screenFor(actor)` gives one (moderation/moderation.ts); the
 * edit services take it as a required argument, so no door (site, API V4, bulk selection, CLI)
 * can change a text without it being checked.
 */
export interface TextScreen {
  /**
   * Checks each named field's texts. A `refuse` word throws `errors.stopWord(field)`; so does a
   * `hold` word when `holdable` is false (album names and usernames have no approval queue).
   * Says whether a `hold` word asks for the file to wait for approval.
   */
  check(fields: Record<string, (string | null | undefined)[]>, options?: { holdable?: boolean }): Promise<{ hold: boolean }>;
}
