import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { sql, type Kysely, type Transaction } from 'kysely';
import { GenerationTablesPlugin } from './projection/generation-tables.plugin';
import { compilesAlike, reusableStatement } from './reusable-statement';

interface ItemsTable {
  id: string;
  label: string;
}

interface ItemsSchema {
  items: ItemsTable;
}

describe.each(readModelDialects)('reusableStatement on $name', (dialect) => {
  let opened: OpenedReadModels;
  let db: Kysely<ItemsSchema>;
  /** The shapes the statement's builder was asked for, in order. */
  let built: number[];
  let selectItems: (trx: Transaction<ItemsSchema>, ids: readonly string[]) => Promise<{ rows: { id: string; label: string }[] }>;

  beforeEach(async () => {
    opened = await dialect.open();
    db = opened.db as unknown as Kysely<ItemsSchema>;
    for (const table of ['items', 'items__g1', 'items__g2']) {
      await db.schema
        .createTable(table)
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('label', 'text', (column) => column.notNull())
        .execute();
      const rows = ['a', 'b', 'c', 'd'].map((id) => ({ id, label: `${id} in ${table}` }));
      await db.insertInto(table as 'items').values(rows).execute();
    }
    built = [];
    selectItems = reusableStatement(
      (ids: readonly string[]) => ids,
      (trx: Transaction<ItemsSchema>, ids) => {
        built.push(ids.length);
        return trx.selectFrom('items').select(['id', 'label']).where('id', 'in', ids).orderBy('id');
      },
      (ids) => ids.length,
    );
  });
  afterEach(() => opened.cleanup());

  const labels = async (result: Promise<{ rows: { label: string }[] }>) => (await result).rows.map((row) => row.label);

  it('runs each call with its own parameters, built once per shape across the transactions of one context', async () => {
    const context = {};
    await db.transaction().execute(async (trx) => {
      compilesAlike(trx, context);
      expect(await labels(selectItems(trx, ['a', 'b']))).toEqual(['a in items', 'b in items']);
      expect(await labels(selectItems(trx, ['c', 'd']))).toEqual(['c in items', 'd in items']);
      expect(await labels(selectItems(trx, ['a', 'c', 'd']))).toEqual(['a in items', 'c in items', 'd in items']);
    });
    await db.transaction().execute(async (trx) => {
      compilesAlike(trx, context);
      expect(await labels(selectItems(trx, ['b', 'd']))).toEqual(['b in items', 'd in items']);
      expect(await labels(selectItems(trx, ['x', 'y', 'b']))).toEqual(['b in items']);
    });
    expect(built).toEqual([2, 3]);
  });

  it('builds again in a transaction registered with no context', async () => {
    await db.transaction().execute((trx) => selectItems(trx, ['a', 'b']));
    await db.transaction().execute((trx) => selectItems(trx, ['c', 'd']));
    expect(built).toEqual([2, 2]);
  });

  it('keeps the SQL of each context apart: transactions plugged into different generations read their own tables', async () => {
    const generation1 = new GenerationTablesPlugin(['items'], 1);
    const generation2 = new GenerationTablesPlugin(['items'], 2);
    for (let round = 0; round < 2; round++) {
      await db.transaction().execute(async (trx) => {
        const inGeneration1 = compilesAlike(trx.withPlugin(generation1), generation1);
        const inGeneration2 = compilesAlike(trx.withPlugin(generation2), generation2);
        expect(await labels(selectItems(inGeneration1, ['a', 'b']))).toEqual(['a in items__g1', 'b in items__g1']);
        expect(await labels(selectItems(inGeneration2, ['a', 'b']))).toEqual(['a in items__g2', 'b in items__g2']);
        expect(await labels(selectItems(compilesAlike(trx, db), ['a', 'b']))).toEqual(['a in items', 'b in items']);
      });
    }
    expect(built).toEqual([2, 2, 2]);
  });

  it('counts the rows a write changed, as a compare-and-set needs', async () => {
    const relabel = reusableStatement(
      (id: string, from: string, to: string) => [to, id, from],
      (trx: Transaction<ItemsSchema>, id, from, to) => trx.updateTable('items').set({ label: to }).where('id', '=', id).where('label', '=', from),
    );
    await db.transaction().execute(async (trx) => {
      compilesAlike(trx, db);
      expect((await relabel(trx, 'a', 'a in items', 'renamed')).numAffectedRows).toBe(1n);
      expect((await relabel(trx, 'a', 'a in items', 'renamed again')).numAffectedRows).toBe(0n);
    });
    expect(await sql<{ label: string }>`select label from items where id = 'a'`.execute(db).then(({ rows }) => rows)).toEqual([{ label: 'renamed' }]);
  });

  it('refuses a statement whose parameters are not the ones given for it, in their order', async () => {
    const swapped = reusableStatement(
      (id: string, label: string) => [id, label],
      (trx: Transaction<ItemsSchema>, id, label) => trx.updateTable('items').set({ label }).where('id', '=', id),
    );
    await expect(db.transaction().execute((trx) => swapped(trx, 'a', 'changed'))).rejects.toThrow(/reusableStatement: the statement's parameters/);
    expect(await sql<{ label: string }>`select label from items where id = 'a'`.execute(db).then(({ rows }) => rows)).toEqual([{ label: 'a in items' }]);
  });
});
