import { Command, Option } from 'commander';
import { signToken } from '@csp/application/auth/jwt';
import { resolveJwtSecret } from '@csp/application/auth/jwt-secret';
import { PrincipalKind, Role, ROLES } from '@csp/application/auth/principal';
import { DEFAULT_DATA_DIR } from '@csp/engine/config/engine-config';
import type { CliContext } from '../cli-context';

export interface TokenOptions {
  role: Role[];
  kind: PrincipalKind;
  tenant: string;
  sub: string;
  name?: string;
  expires: string;
}

const KINDS: readonly PrincipalKind[] = ['partner', 'customer', 'service'];

/** Signs a bearer token with the secret the server uses (env, or the shared dev secret file). */
export async function issueToken(options: TokenOptions, context: CliContext): Promise<string> {
  // The server's default, and empty counts as unset as it does there, so both find the same dev secret.
  const dataDir = context.env.DATA_DIR || DEFAULT_DATA_DIR;
  const { secret, source } = resolveJwtSecret({ env: context.env, dataDir });
  if (source === 'dev-file') context.stderr(`signed with the dev secret in ${dataDir}\n`);
  return signToken(
    { sub: options.sub, tid: options.tenant, kind: options.kind, roles: [...new Set(options.role)], name: options.name },
    secret,
    { expiresIn: options.expires },
  );
}

export function registerTokenCommand(program: Command, context: CliContext): Command {
  return program
    .command('token')
    .description('Print a bearer token for calling the API (stdout carries only the token)')
    .addOption(
      new Option('--role <role...>', 'role claim; repeat or list several').choices(ROLES).makeOptionMandatory(),
    )
    .addOption(new Option('--kind <kind>', 'caller kind').choices(KINDS).default('partner'))
    .option('--tenant <id>', 'tid claim: partner id, or the tenant GUID for customer users', 'partner-dev')
    .option('--sub <userId>', 'user id', 'dev-user')
    .option('--name <name>', 'display name recorded in the activity log')
    .option('--expires <span>', 'lifetime, e.g. 30m, 8h, 7d', '8h')
    .action(async (options: TokenOptions) => {
      context.stdout(`${await issueToken(options, context)}\n`);
    });
}
