import {
  IdentifierNode,
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type TableNode,
  type Transaction,
  type UnknownRow,
} from 'kysely';
import { compilesAlike } from '../reusable-statement';
import type { ReadModelSchema } from '../schema';
import { physicalTable, type AnyProjection, type ProjectionGeneration } from './projection-definition';

class GenerationTablesTransformer extends OperationNodeTransformer {
  constructor(private readonly physicalNames: ReadonlyMap<string, string>) {
    super();
  }

  protected override transformTable(node: TableNode): TableNode {
    const transformed = super.transformTable(node);
    const physical = this.physicalNames.get(transformed.table.identifier.name);
    if (physical === undefined) return transformed;
    return { ...transformed, table: { ...transformed.table, identifier: IdentifierNode.create(physical) } };
  }
}

/**
 * Lets a projection's `apply` write with logical table names (`orders`) into one generation's
 * physical tables (`orders__g3`). Views cannot take the writes (SQLite's are read-only), and
 * passing names around would put generations into every projection's code.
 */
export class GenerationTablesPlugin implements KyselyPlugin {
  private readonly transformer: GenerationTablesTransformer;

  constructor(logicalTables: readonly string[], generation: number) {
    this.transformer = new GenerationTablesTransformer(new Map(logicalTables.map((table) => [table, physicalTable(table, generation)])));
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/**
 * Transactions as one generation of `projection` sees them: its logical table names are that
 * generation's physical tables. One plugged-in view per transaction, not one per event.
 */
export function generationTablesOf(
  projection: AnyProjection,
  generation: Pick<ProjectionGeneration, 'generation'>,
): (trx: Transaction<ReadModelSchema>) => Transaction<ReadModelSchema> {
  const tables = new GenerationTablesPlugin(projection.tables, generation.generation);
  let lastTransaction: Transaction<ReadModelSchema> | undefined;
  let withTables: Transaction<ReadModelSchema> | undefined;
  return (trx) => {
    if (trx !== lastTransaction) {
      lastTransaction = trx;
      withTables = compilesAlike(trx.withPlugin(tables), tables);
    }
    return withTables!;
  };
}
