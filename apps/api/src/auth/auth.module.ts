import { DynamicModule, Logger, Module, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { resolveJwtSecret, ResolveJwtSecretInput } from '@csp/application/auth/jwt-secret';
import { JWT_SECRET, JwtAuthGuard } from './jwt-auth.guard';

/** Registers JwtAuthGuard for every route of the application; opt out per route with `@Public()`. */
@Module({})
export class AuthModule {
  static forRoot(options: { secret: string }): DynamicModule {
    return AuthModule.withSecret({ provide: JWT_SECRET, useValue: options.secret });
  }

  /**
   * Resolves the secret while the application is created, so a production start without
   * `AUTH_JWT_SECRET` fails in `NestFactory.create` instead of at module import time.
   */
  static forRootFromEnv(input: ResolveJwtSecretInput): DynamicModule {
    return AuthModule.withSecret({
      provide: JWT_SECRET,
      useFactory: () => {
        const { secret, source } = resolveJwtSecret(input);
        if (source === 'dev-file') {
          new Logger(AuthModule.name).warn(`AUTH_JWT_SECRET is not set; using the dev secret in ${input.dataDir}`);
        }
        return secret;
      },
    });
  }

  private static withSecret(secretProvider: Provider): DynamicModule {
    return {
      module: AuthModule,
      providers: [secretProvider, { provide: APP_GUARD, useClass: JwtAuthGuard }],
    };
  }
}
