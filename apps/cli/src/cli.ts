import { Command } from 'commander';
import type { CliContext } from './cli-context';
import { registerLedgerCommand } from './commands/ledger.command';
import { registerActivityLogCommand } from './commands/activity-log.command';
import { registerProjectionsCommand } from './commands/projections.command';
import { registerTokenCommand } from './commands/token.command';
import { registerLogCommand } from './commands/log.command';


/**
 * Commander errors are thrown (exitOverride) rather than ending the process, so commands run
 * in-process under test; main.ts turns them into exit codes.
 */
export function buildCli(context: CliContext): Command {
  const program = new Command('csp')
    .description('Operator tools for the CSP subscription engine')
    .exitOverride()
    .configureOutput({ writeOut: context.stdout, writeErr: context.stderr });
  registerTokenCommand(program, context);
  registerProjectionsCommand(program, context);
  registerActivityLogCommand(program, context);
  registerLedgerCommand(program, context);
  registerLogCommand(program, context);
  return program;
}
