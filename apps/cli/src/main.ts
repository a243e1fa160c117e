import { CommanderError } from 'commander';
import { buildCli } from './cli';

const cli = buildCli({
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTerminal: Boolean(process.stderr.isTTY),
});

cli.parseAsync(process.argv).catch((error: unknown) => {
  // Commander has already printed its own usage errors and help.
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
    return;
  }
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
