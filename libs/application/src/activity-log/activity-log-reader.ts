import { DomainError } from '@csp/domain/shared/domain-error';
import type { ActivityAction, ReadModelDb } from '@csp/read-models';
import { stringify } from 'csv-stringify';
import { Readable } from 'node:stream';

/** One recorded access (API.md `GET /v1/activity-log`). */
export interface ActivityEntry {
  id: string;
  occurredAt: string;
  userId: string;
  userName?: string;
  customerId: string;
  softwareId: string;
  productTitle: string;
  action: ActivityAction;
}

/** Which accesses to read: `from` inclusive, `to` exclusive, both ISO instants. */
export interface ActivitySelection {
  /** Only this partner's customers; absent: every partner (the compliance CLI on the operator's side). */
  partnerId?: string;
  from: string;
  to: string;
  customerId?: string;
  userId?: string;
  action?: ActivityAction;
}

export interface ActivityPage {
  items: ActivityEntry[];
  totalCount: number;
  continuationToken?: string;
}

/** The CSV columns, in the order of the API's items. */
export const ACTIVITY_CSV_COLUMNS = ['id', 'occurredAt', 'userId', 'userName', 'customerId', 'softwareId', 'productTitle', 'action'] as const;

const DEFAULT_PAGE_SIZE = 100;
const EXPORT_BATCH = 1000;

type Cursor = [occurredAt: string, id: string];

/**
 * Reads the activity-log projection in log-time order (occurredAt, then id). Pages continue from
 * the last row they showed (keyset), so a page is as cheap at the end of a year as at its start, and
 * rows recorded meanwhile never shift it. The API and the compliance CLI export the same rows.
 *
 * @example
 *   const reader = new ActivityLogReader(db);
 *   for await (const entry of reader.all({ from: '2026-01-01T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' })) ...
 */
export class ActivityLogReader {
  constructor(private readonly db: ReadModelDb) {}

  async page(selection: ActivitySelection, page: { continuationToken?: string; pageSize?: number }): Promise<ActivityPage> {
    const limit = page.pageSize ?? DEFAULT_PAGE_SIZE;
    const after = page.continuationToken === undefined ? undefined : cursorOf(page.continuationToken);
    const { count } = await this.selected(selection)
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    const rows = await this.batch(selection, after, limit + 1);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return rows.length > limit && last
      ? { items, totalCount: Number(count), continuationToken: tokenOf([last.occurredAt, last.id]) }
      : { items, totalCount: Number(count) };
  }

  /** Every selected entry, read in batches so a year of activity never sits in memory at once. */
  async *all(selection: ActivitySelection): AsyncGenerator<ActivityEntry> {
    let after: Cursor | undefined;
    for (;;) {
      const rows = await this.batch(selection, after, EXPORT_BATCH);
      yield* rows;
      if (rows.length < EXPORT_BATCH) return;
      const last = rows.at(-1)!;
      after = [last.occurredAt, last.id];
    }
  }

  /** Every selected entry as CSV (RFC 4180, a header line first), streamed. */
  csv(selection: ActivitySelection): Readable {
    const rows = Readable.from(this.all(selection));
    const csv = stringify({ header: true, columns: [...ACTIVITY_CSV_COLUMNS] });
    rows.on('error', (error) => csv.destroy(error));
    return rows.pipe(csv);
  }

  private async batch(selection: ActivitySelection, after: Cursor | undefined, limit: number): Promise<ActivityEntry[]> {
    let query = this.selected(selection);
    if (after) {
      const [occurredAt, id] = after;
      query = query.where((eb) => eb.or([eb('occurred_at', '>', occurredAt), eb.and([eb('occurred_at', '=', occurredAt), eb('id', '>', id)])]));
    }
    const rows = await query.selectAll().orderBy('occurred_at').orderBy('id').limit(limit).execute();
    return rows.map((row) => ({
      id: row.id,
      occurredAt: row.occurred_at,
      userId: row.user_id,
      ...(row.user_name !== null ? { userName: row.user_name } : {}),
      customerId: row.customer_id,
      softwareId: row.software_id,
      productTitle: row.product_title,
      action: row.action,
    }));
  }

  private selected(selection: ActivitySelection) {
    let query = this.db.selectFrom('activity_log').where('occurred_at', '>=', selection.from).where('occurred_at', '<', selection.to);
    if (selection.partnerId !== undefined) query = query.where('partner_id', '=', selection.partnerId);
    if (selection.customerId !== undefined) query = query.where('customer_id', '=', selection.customerId);
    if (selection.userId !== undefined) query = query.where('user_id', '=', selection.userId);
    if (selection.action !== undefined) query = query.where('action', '=', selection.action);
    return query;
  }
}

function tokenOf(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function cursorOf(token: string): Cursor {
  try {
    const cursor: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Array.isArray(cursor) && cursor.length === 2 && cursor.every((part) => typeof part === 'string')) return cursor as Cursor;
  } catch {
    // falls through to the refusal below
  }
  throw new DomainError('INVALID_CONTINUATION_TOKEN', 'invalid', 'The continuation token is not one this service issued');
}
