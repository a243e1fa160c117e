import { CompiledQuery, type Compilable, type QueryResult } from 'kysely';

/**
 * Which transactions compile a statement to the same SQL: those on one database with the same
 * plugins. A transaction not registered here is a context of its own.
 */
const compileContexts = new WeakMap<object, object>();

/**
 * Declares that statements run in `transaction` compile as in every other transaction registered
 * with `context`: the same database (so the same dialect) and the same plugins. A projection's runner
 * registers the transactions it plugs into its generation's tables with that plugin, and its bare
 * transactions with its database.
 */
export function compilesAlike<T extends object>(transaction: T, context: object): T {
  compileContexts.set(transaction, context);
  return transaction;
}

/** The object whose transactions compile alike: the one `transaction` was registered with, or itself. */
export function compileContextOf(transaction: object): object {
  return compileContexts.get(transaction) ?? transaction;
}

/** True when a compiled statement takes exactly `expected`, in that order: its SQL can then run with other values in their place. */
export function sameParameters(compiled: readonly unknown[], expected: readonly unknown[]): boolean {
  return compiled.length === expected.length && compiled.every((value, index) => Object.is(value, expected[index]));
}

interface QueryRunner {
  executeQuery<Row>(query: CompiledQuery<Row>): Promise<QueryResult<Row>>;
}

/**
 * A statement Kysely builds and compiles once per compile context (see `compilesAlike`) and shape,
 * then runs with each call's parameters. Kysely builds, runs the plugins over and compiles a query
 * tree on every call: a live fold's transaction of one purchase runs a dozen small statements, and at
 * 500 purchases/s that was a fifth of the projection worker's time, more than SQLite spent running
 * them.
 *
 * `parametersOf` gives the values the SQL takes, in its order, which the first compilation of each
 * shape checks against Kysely's own; `shapeOf` names what changes the SQL text (the length of an
 * `IN` list, say), if anything does.
 *
 * @example
 *   const selectOrders = reusableStatement(
 *     (ids: readonly string[]) => ids,
 *     (trx: Transaction<OrdersSchema>, ids) => trx.selectFrom('orders').selectAll().where('id', 'in', ids),
 *     (ids) => ids.length,
 *   );
 *   const { rows } = await selectOrders(trx, ['o-1', 'o-2']);
 */
export function reusableStatement<Trx extends QueryRunner, Args extends unknown[], Row>(
  parametersOf: (...args: Args) => readonly unknown[],
  build: (trx: Trx, ...args: Args) => Compilable<Row>,
  shapeOf: (...args: Args) => string | number = () => 'only',
): (trx: Trx, ...args: Args) => Promise<QueryResult<Row>> {
  const sqlByContext = new WeakMap<object, Map<string | number, string>>();
  return (trx, ...args) => {
    const context = compileContextOf(trx);
    let sqlByShape = sqlByContext.get(context);
    if (!sqlByShape) sqlByContext.set(context, (sqlByShape = new Map()));
    const shape = shapeOf(...args);
    const parameters = parametersOf(...args);
    let sqlText = sqlByShape.get(shape);
    if (sqlText === undefined) {
      const compiled = build(trx, ...args).compile();
      if (!sameParameters(compiled.parameters, parameters)) {
        throw new Error(`reusableStatement: the statement's parameters are not the ones given for it: ${compiled.sql}`);
      }
      sqlByShape.set(shape, (sqlText = compiled.sql));
    }
    return trx.executeQuery(CompiledQuery.raw(sqlText, [...parameters]) as CompiledQuery<Row>);
  };
}
