import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { verifyToken } from '@csp/application/auth/jwt';
import { JwtSecretError, resolveJwtSecret } from '@csp/application/auth/jwt-secret';
import { buildCli } from '../cli';
import type { CliContext } from '../cli-context';

describe('csp token', () => {
  let dataDir: string;
  let out: string;
  let err: string;
  let context: CliContext;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'cli-token-'));
    out = '';
    err = '';
    context = { env: { DATA_DIR: dataDir }, stdout: (text) => (out += text), stderr: (text) => (err += text) };
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const run = (context: CliContext, ...args: string[]): Promise<unknown> =>
    buildCli(context).parseAsync(['token', ...args], { from: 'user' });

  it('prints only a token the server verifies with the shared dev secret', async () => {
    await run(context, '--role', 'BillingAdmin', '--role', 'GlobalAdmin', 'BillingAdmin', '--name', 'Bea', '--expires', '1h');
    expect(out).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(err).toContain(dataDir);
    const { secret } = resolveJwtSecret({ env: {}, dataDir });
    await expect(verifyToken(out.trim(), secret)).resolves.toEqual({
      userId: 'dev-user',
      tenantId: 'partner-dev',
      kind: 'partner',
      roles: ['GlobalAdmin', 'BillingAdmin'],
      name: 'Bea',
    });
  });

  it("takes an empty DATA_DIR as unset, as the server does: the dev secret in ./data, not in the working directory's root", async () => {
    const workingDirectory = process.cwd();
    process.chdir(dataDir);
    try {
      await run({ ...context, env: { DATA_DIR: '' } }, '--role', 'AdminAgent');
    } finally {
      process.chdir(workingDirectory);
    }
    expect(err).toContain('./data');
    const { secret } = resolveJwtSecret({ env: {}, dataDir: join(dataDir, 'data') });
    await expect(verifyToken(out.trim(), secret)).resolves.toMatchObject({ roles: ['AdminAgent'] });
  });

  it('signs with AUTH_JWT_SECRET when set, honouring kind, tenant and subject', async () => {
    const secret = 's'.repeat(40);
    await run(
      { ...context, env: { ...context.env, AUTH_JWT_SECRET: secret } },
      '--role', 'Importer', '--kind', 'service', '--tenant', 'partner-7', '--sub', 'importer-bot',
    );
    expect(await verifyToken(out.trim(), secret)).toEqual({
      userId: 'importer-bot',
      tenantId: 'partner-7',
      kind: 'service',
      roles: ['Importer'],
    });
    expect(err).toBe('');
  });

  it.each([
    ['an unknown role', ['--role', 'Root'], 'commander.invalidArgument'],
    ['no role', [], 'commander.missingMandatoryOptionValue'],
    ['an unknown kind', ['--role', 'AdminAgent', '--kind', 'robot'], 'commander.invalidArgument'],
  ])('refuses %s without printing a token', async (_label, args, code) => {
    const failure = run(context, ...args);
    await expect(failure).rejects.toBeInstanceOf(CommanderError);
    await expect(failure).rejects.toMatchObject({ code });
    expect(out).toBe('');
  });

  it('refuses to mint a token in production without a secret', async () => {
    await expect(run({ ...context, env: { ...context.env, NODE_ENV: 'production' } }, '--role', 'AdminAgent')).rejects.toBeInstanceOf(
      JwtSecretError,
    );
    expect(out).toBe('');
  });
});
