import { CompiledQuery, type Compilable, type Transaction } from 'kysely';
import { compileContextOf, sameParameters } from '../reusable-statement';
import { statementChunks } from './statement-chunks';

/** Compiled SQL texts kept; each statement has about 20 shapes (see `statementChunks`) per generation. */
const CAPACITY = 500;

const compiledSql = new Map<string, string>();

function remember(key: string, sqlText: string): void {
  compiledSql.set(key, sqlText);
  if (compiledSql.size > CAPACITY) compiledSql.delete(compiledSql.keys().next().value!);
}

/**
 * A multi-row insert or upsert whose SQL is compiled once per shape. Kysely builds, freezes and
 * compiles a node per value on every call: in a rebuild that was about a sixth of the fold's time,
 * and the SQL text it produced anew each time was hashed again by the statement cache.
 *
 * `columns` names every column of a row (the type checks that none is missing); `build` must take
 * the rows' values, in that order, as the statement's only parameters, which the first compilation
 * of each shape checks. The first transaction of a compile context (see `compilesAlike`: a
 * generation's runner registers the transactions it plugs into that generation's tables) compiles the
 * statement for one row to find which SQL it is (the dialect, the generation's tables), once per chunk
 * length, then reuses the SQL compiled for as many rows as the chunk holds; a transaction not
 * registered with a context is a context of its own.
 *
 * @example
 *   const insertOrders = multiRowStatement<OrdersSchema, OrdersTable>({ id: true, state: true }, (trx, rows) => trx.insertInto('orders').values(rows));
 *   await insertOrders(trx, rows);
 */
export function multiRowStatement<DB, Row extends object>(
  everyColumn: Record<keyof Row & string, true>,
  build: (trx: Transaction<DB>, rows: Row[]) => Compilable,
): (trx: Transaction<DB>, rows: readonly Row[]) => Promise<void> {
  const columns = Object.keys(everyColumn) as (keyof Row & string)[];
  const parametersOf = (rows: readonly Row[]): unknown[] => {
    const parameters: unknown[] = [];
    for (const row of rows) {
      if (Object.keys(row).length !== columns.length) {
        throw new Error(`multiRowStatement: a row has columns ${Object.keys(row).join(', ')}, the statement ${columns.join(', ')}`);
      }
      for (const column of columns) {
        const value = row[column];
        // Kysely leaves an undefined value's column out, which a shared SQL text cannot do.
        if (value === undefined) throw new Error(`multiRowStatement: column ${column} is undefined`);
        parameters.push(value);
      }
    }
    return parameters;
  };
  /**
   * In one compile context the SQL for a chunk's length stays the same: the one-row compilation that
   * finds it runs once per context and length, not once per chunk (a rebuild's 10,000-event
   * transactions run each statement about a hundred times) nor once per transaction (a live fold's
   * hold a purchase or two).
   */
  const sqlByContext = new WeakMap<object, Map<number, string>>();
  const sqlFor = (trx: Transaction<DB>, chunk: readonly Row[], parameters: readonly unknown[]): string => {
    const key = `${chunk.length}\n${build(trx, chunk.slice(0, 1)).compile().sql}`;
    let sqlText = compiledSql.get(key);
    if (sqlText === undefined) {
      const inColumnOrder = chunk.map((row) => Object.fromEntries(columns.map((column) => [column, row[column]])) as Row);
      const compiled = build(trx, inColumnOrder).compile();
      if (!sameParameters(compiled.parameters, parameters)) throw new Error(`multiRowStatement: the statement's parameters are not its rows' values in column order: ${compiled.sql}`);
      sqlText = compiled.sql;
      remember(key, sqlText);
    }
    return sqlText;
  };
  return async (trx, rows) => {
    const context = compileContextOf(trx);
    let sqlByLength = sqlByContext.get(context);
    if (!sqlByLength) sqlByContext.set(context, (sqlByLength = new Map()));
    for (const chunk of statementChunks(rows)) {
      const parameters = parametersOf(chunk);
      let sqlText = sqlByLength.get(chunk.length);
      if (sqlText === undefined) sqlByLength.set(chunk.length, (sqlText = sqlFor(trx, chunk, parameters)));
      await trx.executeQuery(CompiledQuery.raw(sqlText, parameters));
    }
  };
}
