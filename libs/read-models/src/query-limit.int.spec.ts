import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import type { Kysely } from 'kysely';

interface ItemsSchema {
  items: { id: string };
}

describe.each(readModelDialects)('a query LIMIT on $name', (dialect) => {
  let opened: OpenedReadModels;
  let db: Kysely<ItemsSchema>;
  const ids = ['a', 'b', 'c', 'd', 'e'];

  beforeEach(async () => {
    opened = await dialect.open();
    db = opened.db as unknown as Kysely<ItemsSchema>;
    await db.schema.createTable('items').addColumn('id', 'text', (column) => column.primaryKey()).execute();
    await db.insertInto('items').values(ids.map((id) => ({ id }))).execute();
  });

  afterEach(() => opened.cleanup());

  const firstItems = (limit: number) => db.selectFrom('items').select('id').orderBy('id').limit(limit);

  it('limits each run to the value bound to it, one statement for every limit', async () => {
    for (const limit of [2, 4, 1, 0, 5, 2]) {
      expect((await firstItems(limit).execute()).map((row) => row.id)).toEqual(ids.slice(0, limit));
    }
    const [two, four] = [firstItems(2).compile(), firstItems(4).compile()];
    expect(two.sql).toBe(four.sql);
    expect([two.parameters, four.parameters]).toEqual([[2], [4]]);
  });
});
