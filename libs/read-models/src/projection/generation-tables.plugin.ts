import {
  IdentifierNode,
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type TableNode,
  type UnknownRow,
} from 'kysely';
import { physicalTable } from './projection-definition';

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
