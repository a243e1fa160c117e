import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, type Generated } from 'kysely';
import { withStatementCache } from './sqlite-statement-cache';

describe('withStatementCache', () => {
  let database: Database.Database;
  let prepared: string[];

  beforeEach(() => {
    database = new Database(':memory:');
    database.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)');
    prepared = [];
    const prepare = database.prepare.bind(database);
    jest.spyOn(database, 'prepare').mockImplementation((sql: string) => {
      prepared.push(sql);
      return prepare(sql);
    });
  });

  afterEach(() => {
    if (database.open) database.close();
  });

  it('prepares each SQL text once and answers every later run from the same statement', () => {
    const cached = withStatementCache(database);
    const insert = 'INSERT INTO items (name) VALUES (?)';
    cached.prepare(insert).run(['a']);
    cached.prepare(insert).run(['b']);
    const rows = cached.prepare('SELECT name FROM items ORDER BY id').all([]);
    cached.prepare('SELECT name FROM items ORDER BY id').all([]);

    expect(rows).toEqual([{ name: 'a' }, { name: 'b' }]);
    expect(prepared).toEqual([insert, 'SELECT name FROM items ORDER BY id']);
  });

  it('hands a statement that is still iterating to nobody else', () => {
    const cached = withStatementCache(database);
    database.exec("INSERT INTO items (name) VALUES ('a'), ('b')");
    const select = 'SELECT name FROM items ORDER BY id';
    const streaming = cached.prepare(select).iterate([]);
    streaming.next();

    const meanwhile = cached.prepare(select).all([]);
    streaming.return?.();

    expect(meanwhile).toEqual([{ name: 'a' }, { name: 'b' }]);
    expect(prepared).toEqual([select, select]);
  });

  it('keeps at most `capacity` statements, dropping the least recently used', () => {
    const cached = withStatementCache(database, 2);
    const [first, second, third] = ['SELECT 1', 'SELECT 2', 'SELECT 3'];
    cached.prepare(first);
    cached.prepare(second);
    cached.prepare(first);
    cached.prepare(third);
    cached.prepare(first);
    cached.prepare(second);

    expect(prepared).toEqual([first, second, third, second]);
  });

  it('serves Kysely, and closing it closes the database', async () => {
    const db = new Kysely<{ items: { id: Generated<number>; name: string } }>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) });
    await db.insertInto('items').values({ name: 'x' }).execute();
    await db.insertInto('items').values({ name: 'y' }).execute();

    expect(await db.selectFrom('items').select('name').orderBy('id').execute()).toEqual([{ name: 'x' }, { name: 'y' }]);
    expect(prepared.filter((sql) => sql.startsWith('insert'))).toHaveLength(1);
    await db.destroy();
    expect(database.open).toBe(false);
  });
});
