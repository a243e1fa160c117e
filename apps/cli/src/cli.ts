import { Command } from 'commander';
import { registerProjectionsCommand } from './commands/projections.command';
import { registerTokenCommand } from './commands/token.command';

/** What commands may touch of the outside world; tests pass their own. */
export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Standard error is a terminal: progress bars are drawn there. */
  isTerminal?: boolean;
}

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
  return program;
}
