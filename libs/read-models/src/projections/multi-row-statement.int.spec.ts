import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import { sql, type Kysely, type Transaction } from 'kysely';
import { GenerationTablesPlugin } from '../projection/generation-tables.plugin';
import { compilesAlike } from '../reusable-statement';
import { multiRowStatement } from './multi-row-statement';

interface ItemsTable {
  id: string;
  label: string;
  amount: number;
  note: string | null;
}

interface ItemsSchema {
  items: ItemsTable;
}

const everyColumn = { id: true, label: true, amount: true, note: true } as const;

const upsertItems = multiRowStatement<ItemsSchema, ItemsTable>(everyColumn, (trx, rows) =>
  trx
    .insertInto('items')
    .values(rows)
    .onConflict((conflict) => conflict.column('id').doUpdateSet((update) => ({ label: update.ref('excluded.label') }))),
);

function items(count: number, prefix: string, from = 0): ItemsTable[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${prefix}-${String(from + index).padStart(4, '0')}`,
    label: `label ${from + index}`,
    amount: (from + index) * 7 - 100,
    note: index % 3 === 0 ? null : `note ${index}`,
  }));
}

describe.each(readModelDialects)('multiRowStatement on $name', (dialect) => {
  let opened: OpenedReadModels;
  let db: Kysely<ItemsSchema>;

  beforeEach(async () => {
    opened = await dialect.open();
    db = opened.db as unknown as Kysely<ItemsSchema>;
    for (const table of ['items', 'items__g1', 'items__g2']) {
      await db.schema
        .createTable(table)
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('label', 'text', (column) => column.notNull())
        .addColumn('amount', 'bigint', (column) => column.notNull())
        .addColumn('note', 'text')
        .execute();
    }
  });
  afterEach(() => opened.cleanup());

  const stored = (table: string) =>
    sql<ItemsTable>`select id, label, amount, note from ${sql.table(table)} order by id`
      .execute(db)
      .then(({ rows }) => rows.map((row) => ({ ...row, amount: Number(row.amount) })));

  it('stores every row of every chunk size as Kysely’s own insert of the same rows does', async () => {
    // 1, 16 and 17 rows and more take different shapes (see statementChunks); 300 rows span several chunks.
    const batches = [items(1, 'a'), items(16, 'b'), items(17, 'c'), items(300, 'd'), items(5, 'e')];
    await db.transaction().execute(async (trx) => {
      for (const batch of batches) await upsertItems(trx, batch);
      for (const batch of batches) await trx.insertInto('items__g1' as 'items').values(batch).execute();
    });
    const byKysely = await stored('items__g1');
    expect(byKysely).toHaveLength(339);
    expect(await stored('items')).toEqual(byKysely);
  });

  it('applies the upsert: a second write of the same ids changes what its conflict clause updates', async () => {
    await db.transaction().execute((trx) => upsertItems(trx, items(40, 'x')));
    const again = items(40, 'x').map((item) => ({ ...item, label: `${item.label} again`, amount: 0 }));
    await db.transaction().execute((trx) => upsertItems(trx, again));
    const rows = await stored('items');
    expect(rows).toHaveLength(40);
    expect(rows.every((row) => row.label.endsWith(' again') && row.amount !== 0)).toBe(true);
  });

  it('writes into the tables of the generation its transaction is plugged into, for the same shapes', async () => {
    const plugged = (trx: Transaction<ItemsSchema>, generation: number) => trx.withPlugin(new GenerationTablesPlugin(['items'], generation));
    await db.transaction().execute(async (trx) => {
      await upsertItems(plugged(trx, 1), items(20, 'g1'));
      await upsertItems(plugged(trx, 2), items(20, 'g2'));
      await upsertItems(plugged(trx, 1), items(20, 'g1', 20));
    });
    expect((await stored('items__g1')).map((row) => row.id)).toEqual(items(40, 'g1').map((item) => item.id));
    expect((await stored('items__g2')).map((row) => row.id)).toEqual(items(20, 'g2').map((item) => item.id));
    expect(await stored('items')).toEqual([]);
  });

  it('builds a shape for many rows once; in a later transaction only the one-row statement that names it, once per chunk length', async () => {
    const built: number[] = [];
    const insertCounted = multiRowStatement<ItemsSchema, ItemsTable>(everyColumn, (trx, rows) => {
      built.push(rows.length);
      return trx.insertInto('items').values(rows);
    });
    await db.transaction().execute(async (trx) => {
      await insertCounted(trx, items(32, 'r'));
      await insertCounted(trx, items(32, 's'));
      await insertCounted(trx, items(32, 't'));
    });
    expect(built).toEqual([1, 32]);
    await db.transaction().execute(async (trx) => {
      await insertCounted(trx, items(32, 'u'));
      await insertCounted(trx, items(32, 'v'));
    });
    expect(built).toEqual([1, 32, 1]);
    expect(await stored('items')).toHaveLength(160);
  });

  it('builds nothing again in a later transaction registered with the same compile context', async () => {
    const built: number[] = [];
    const insertCounted = multiRowStatement<ItemsSchema, ItemsTable>(everyColumn, (trx, rows) => {
      built.push(rows.length);
      return trx.insertInto('items').values(rows);
    });
    const generation1 = new GenerationTablesPlugin(['items'], 1);
    for (const prefix of ['r', 's']) {
      await db.transaction().execute((trx) => insertCounted(compilesAlike(trx.withPlugin(generation1), generation1), items(32, prefix)));
    }
    expect(built).toEqual([1, 32]);
    expect(await stored('items__g1')).toHaveLength(64);
  });

  it('refuses a row without every column, with an extra one, or with an undefined value, and writes nothing of it', async () => {
    const [row] = items(1, 'bad');
    const { note: _left, ...missing } = row!;
    const cases = [missing as ItemsTable, { ...row!, extra: 1 } as ItemsTable, { ...row!, note: undefined } as unknown as ItemsTable];
    for (const bad of cases) {
      await expect(db.transaction().execute((trx) => upsertItems(trx, [...items(3, 'ok'), bad]))).rejects.toThrow(/multiRowStatement/);
    }
    expect(await stored('items')).toEqual([]);
  });

  it('refuses a statement whose parameters are not only its rows’ values', async () => {
    const withCondition = multiRowStatement<ItemsSchema, ItemsTable>(everyColumn, (trx, rows) =>
      trx
        .insertInto('items')
        .values(rows)
        .onConflict((conflict) => conflict.column('id').doUpdateSet({ label: 'constant' })),
    );
    await expect(db.transaction().execute((trx) => withCondition(trx, items(4, 'p')))).rejects.toThrow(/not its rows' values/);
    expect(await stored('items')).toEqual([]);
  });
});
