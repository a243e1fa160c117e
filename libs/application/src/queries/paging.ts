import type { ReadModelSchema } from '@csp/read-models';
import { DomainError } from '@csp/domain/shared/domain-error';
import type { SelectQueryBuilder } from 'kysely';

/** A page of a list answer (API.md "Lists"). */
export interface ListPage<Item> {
  items: Item[];
  totalCount: number;
  continuationToken?: string;
}

export interface PageRequest {
  continuationToken?: string;
  pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 100;

/** Continuation tokens are opaque to clients; inside they are an offset. */
function pageBounds(page: PageRequest): { offset: number; limit: number } {
  const limit = page.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!page.continuationToken) return { offset: 0, limit };
  const offset = Number(Buffer.from(page.continuationToken, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new DomainError('INVALID_CONTINUATION_TOKEN', 'invalid', 'The continuation token is not one this service issued');
  }
  return { offset, limit };
}

/** Rows keeping an evolved state as JSON (read back by `parse`), one page of them in purchase order, as views. */
export async function pageOfStates<State, View>(
  base: SelectQueryBuilder<ReadModelSchema, 'orders' | 'subscriptions', object>,
  page: PageRequest,
  parse: (stored: string) => State,
  toView: (state: State) => View,
): Promise<ListPage<View>> {
  const { offset, limit } = pageBounds(page);
  const { count } = await base.select((eb) => eb.fn.countAll<number>().as('count')).executeTakeFirstOrThrow();
  const rows = await base.select(['state']).orderBy('purchased_at').orderBy('id').offset(offset).limit(limit).execute();
  const items = rows.map((row) => toView(parse(row.state)));
  const totalCount = Number(count);
  const next = offset + items.length;
  return next < totalCount
    ? { items, totalCount, continuationToken: Buffer.from(String(next), 'utf8').toString('base64url') }
    : { items, totalCount };
}

/** One page of a list already in memory, in its given order, with the same continuation tokens as `pageOfStates`. */
export function pageOfItems<Item>(all: readonly Item[], page: PageRequest): ListPage<Item> {
  const { offset, limit } = pageBounds(page);
  const items = all.slice(offset, offset + limit);
  const next = offset + items.length;
  return next < all.length
    ? { items, totalCount: all.length, continuationToken: Buffer.from(String(next), 'utf8').toString('base64url') }
    : { items, totalCount: all.length };
}
