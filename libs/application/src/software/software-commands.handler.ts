import { keyAccess } from '@csp/domain/policies/key-access.policy';
import { DomainError } from '@csp/domain/shared/domain-error';
import { acceptedKeyType, revoked, softwareDecider, type SoftwareCommand, type SoftwareState } from '@csp/domain/software/software.decider';
import {
  softwareStream,
  type DownloadLinkIssued,
  type DownloadStarted,
  type KeyGenerated,
  type SoftwareItem,
} from '@csp/domain/software/software.events';
import { decryptField, isEncryptedField } from '@csp/event-store/codec/field-cipher';
import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CustomerDirectory } from '../access/customer-directory';
import type { Principal } from '../auth/principal';
import { answer } from '../command-handling/command-answer';
import type { CommandContext } from '../command-handling/command-context';
import { CommandRunner, type CommandOutcome } from '../command-handling/command-runner';
import { KeyIssuer } from '../keys/key-issuer.port';
import { DataKeyDestroyedError, KeyVault } from '../keys/key-vault';
import { Clock } from '../ports/clock.port';
import { IdGenerator } from '../ports/id-generator.port';
import { downloadFile } from './download-file';
import { DOWNLOAD_ADDRESS_VALIDITY_MS, DownloadTokens, type DownloadTokenClaims } from './download-tokens';
import {
  GenerateKeyCommand,
  IssueDownloadLinkCommand,
  RevealKeyCommand,
  StartDownloadCommand,
  UseDownloadTokenCommand,
  type SoftwareTarget,
} from './software-commands';
import { SoftwareItems, softwareNotFound } from './software-items';
import { StreamTurns } from './stream-turns';

/** Where download tokens are served (`GET /v1/downloads/{token}`); answers carry it relative to the api's base. */
export const DOWNLOADS_PATH = '/v1/downloads/';

/**
 * One process queues the uses of a stream (StreamTurns); these retries cover the other processes
 * racing for the same stream, e.g. every api replica handing out one popular link at once.
 */
const SOFTWARE_MAX_ATTEMPTS = 60;

/** What a link holder is in the log and the activity log: the link, not a person the service knows. */
export function linkHolder(linkId: string, customerId: string): Principal {
  return { userId: `link:${linkId}`, tenantId: customerId, kind: 'service', roles: [] };
}

export function linkNotFound(): DomainError {
  return new DomainError('LINK_NOT_FOUND', 'not_found', 'No such download link');
}

/**
 * `@Injectable()` makes TypeScript emit the constructor's parameter types here; the concrete handlers
 * declare no constructor of their own, so Nest finds their dependencies through this class.
 */
@Injectable()
abstract class SoftwareCommandHandler {
  constructor(
    protected readonly runner: CommandRunner,
    protected readonly customers: CustomerDirectory,
    protected readonly items: SoftwareItems,
    protected readonly turns: StreamTurns,
    protected readonly clock: Clock,
    protected readonly ids: IdGenerator,
    protected readonly vault: KeyVault,
    protected readonly tokens: DownloadTokens,
    @Inject(KeyIssuer) protected readonly keyIssuer: KeyIssuer,
  ) {}

  /** The customer as its own stream says, the item as the order and subscription streams say, then who may touch its keys. */
  protected async authorizedItem(target: SoftwareTarget): Promise<SoftwareItem> {
    const { principal } = target.context;
    const customer = await this.customers.forCommand(principal, target.customerRef);
    const item = await this.items.forCommand(customer, target.softwareId);
    const access = keyAccess({ kind: principal.kind, roles: principal.roles, tenantId: principal.tenantId }, item);
    if (!access.allowed) throw new DomainError('FORBIDDEN', 'forbidden', access.reason);
    return item;
  }

  /** Decides at the instant the stream is read, on every attempt, one command per stream at a time in this process. */
  protected decideOn(
    item: SoftwareItem,
    context: CommandContext,
    commandType: string,
    commandAt: (at: string) => SoftwareCommand,
  ): Promise<CommandOutcome<SoftwareState, ReturnType<typeof softwareDecider.decide>[number]>> {
    const stream = softwareStream(item.softwareId);
    return this.turns.inTurn(stream, () =>
      this.runner.run(stream, softwareDecider, (state) => softwareDecider.decide(commandAt(this.clock.now()), state), context, commandType, {
        maxAttempts: SOFTWARE_MAX_ATTEMPTS,
      }),
    );
  }
}

@CommandHandler(GenerateKeyCommand)
export class GenerateKeyHandler extends SoftwareCommandHandler implements ICommandHandler<GenerateKeyCommand> {
  async execute({ target, choices, keyType }: GenerateKeyCommand) {
    // KMS is refused whoever asks and whatever else the request holds, before anything is looked up.
    acceptedKeyType(keyType);
    const item = await this.authorizedItem(target);
    const keyId = this.ids.newId();
    const command = (productKey: string, at: string): SoftwareCommand => ({
      type: 'GenerateKey',
      item,
      keyId,
      productKey,
      ...(keyType !== undefined ? { keyType } : {}),
      choices,
      at,
    });
    // A retry under the same Idempotency-Key answers from its first run without drawing another key.
    const outcome =
      (await this.runner.recordedRun(softwareStream(item.softwareId), softwareDecider, target.context)) ??
      (await this.generate(item, target, command));
    const generated = outcome.events.find((event): event is KeyGenerated => event.type === 'KeyGenerated')!;
    return answer(
      {
        keyId: generated.data.keyId,
        keyType: generated.data.keyType,
        ...(item.installationInstructionsUrl ? { installationInstructionsUrl: item.installationInstructionsUrl } : {}),
      },
      outcome.position,
    );
  }
  private async generate(
    item: SoftwareItem,
    target: GenerateKeyCommand['target'],
    command: (productKey: string, at: string) => SoftwareCommand,
  ) {
    // A dry run of the rules first, so a refused request never draws a key from the issuer.
    softwareDecider.decide(command('', this.clock.now()), softwareDecider.initialState());
    const productKey = await this.keyIssuer.issue({ softwareId: item.softwareId, productId: item.productId, skuId: item.skuId });
    return this.decideOn(item, target.context, 'GenerateKey', (at) => command(productKey, at)).catch((error: unknown) => {
      // The purchase was cancelled between the check and the append: its data key is gone.
      throw error instanceof DataKeyDestroyedError ? revoked() : error;
    });
  }
}

@CommandHandler(RevealKeyCommand)
export class RevealKeyHandler extends SoftwareCommandHandler implements ICommandHandler<RevealKeyCommand> {
  async execute({ target, keyId }: RevealKeyCommand) {
    const item = await this.authorizedItem(target);
    const outcome = await this.decideOn(item, target.context, 'RevealKey', (at) => ({ type: 'RevealKey', item, keyId, at }));
    const stored: unknown = outcome.state.keys.get(keyId)?.productKey;
    const productKey = await this.decrypt(item.softwareId, stored);
    return answer(
      { productKey, ...(item.installationInstructionsUrl ? { installationInstructionsUrl: item.installationInstructionsUrl } : {}) },
      outcome.position,
    );
  }

  /** The only place key text is decrypted; a destroyed data key means the purchase was cancelled. */
  private async decrypt(softwareId: string, stored: unknown): Promise<string> {
    // Keys written before encryption began are plain text in the log; they are still handed out.
    if (typeof stored === 'string') return stored;
    if (!isEncryptedField(stored)) throw new Error(`The stored key of ${softwareId} is neither text nor an encrypted field`);
    const dataKey = await this.vault.existingDataKey(softwareId);
    if (!dataKey) throw revoked();
    return decryptField(stored, dataKey, softwareId);
  }
}

@CommandHandler(StartDownloadCommand)
export class StartDownloadHandler extends SoftwareCommandHandler implements ICommandHandler<StartDownloadCommand> {
  async execute({ target, choices }: StartDownloadCommand) {
    const item = await this.authorizedItem(target);
    const downloadId = this.ids.newId();
    const outcome = await this.decideOn(item, target.context, 'StartDownload', (at) => ({ type: 'StartDownload', item, downloadId, choices, at }));
    const started = outcome.events.find((event): event is DownloadStarted => event.type === 'DownloadStarted')!;
    // Made from the recorded event, so a retry with the same Idempotency-Key answers the same address.
    const token = this.tokens.sign({
      kind: 'download',
      softwareId: item.softwareId,
      customerId: item.customerId,
      downloadId: started.data.downloadId,
      expiresAt: new Date(Date.parse(started.data.startedAt) + DOWNLOAD_ADDRESS_VALIDITY_MS).toISOString(),
      choices: started.data.choices,
    });
    return answer({ downloadUrl: `${DOWNLOADS_PATH}${token}` }, outcome.position);
  }
}

@CommandHandler(IssueDownloadLinkCommand)
export class IssueDownloadLinkHandler extends SoftwareCommandHandler implements ICommandHandler<IssueDownloadLinkCommand> {
  async execute({ target, choices }: IssueDownloadLinkCommand) {
    const item = await this.authorizedItem(target);
    const linkId = this.ids.newId();
    const outcome = await this.decideOn(item, target.context, 'IssueDownloadLink', (at) => ({ type: 'IssueDownloadLink', item, linkId, choices, at }));
    const issued = outcome.events.find((event): event is DownloadLinkIssued => event.type === 'DownloadLinkIssued')!;
    const token = this.tokens.sign({
      kind: 'link',
      softwareId: item.softwareId,
      customerId: item.customerId,
      linkId: issued.data.linkId,
      expiresAt: issued.data.expiresAt,
    });
    return answer({ url: `${DOWNLOADS_PATH}${token}`, expiresAt: issued.data.expiresAt }, outcome.position);
  }
}

@CommandHandler(UseDownloadTokenCommand)
export class UseDownloadTokenHandler extends SoftwareCommandHandler implements ICommandHandler<UseDownloadTokenCommand> {
  async execute({ token, correlationId }: UseDownloadTokenCommand) {
    const claims = this.tokens.verify(token);
    if (!claims) throw linkNotFound();
    const item = await this.items.forCommand({ customerId: claims.customerId }, claims.softwareId).catch((error: unknown) => {
      throw error instanceof DomainError && error.code === softwareNotFound().code ? linkNotFound() : error;
    });
    return claims.kind === 'link' ? this.useLink(item, claims, correlationId) : this.fetchStarted(item, claims);
  }

  private async useLink(item: SoftwareItem, claims: Extract<DownloadTokenClaims, { kind: 'link' }>, correlationId: string) {
    const context: CommandContext = { principal: linkHolder(claims.linkId, item.customerId), correlationId };
    const outcome = await this.decideOn(item, context, 'UseDownloadLink', (at) => ({ type: 'UseDownloadLink', item, linkId: claims.linkId, at }));
    const link = outcome.state.links.get(claims.linkId)!;
    return answer(downloadFile(item.productId, link.choices), outcome.position);
  }

  /** A started download was recorded when it started; its address only has to be genuine, fresh and not revoked. */
  private async fetchStarted(item: SoftwareItem, claims: Extract<DownloadTokenClaims, { kind: 'download' }>) {
    if (item.revoked) throw revoked();
    if (Date.parse(this.clock.now()) >= Date.parse(claims.expiresAt)) {
      throw new DomainError('LINK_EXPIRED', 'gone', `This download address expired at ${claims.expiresAt}; start the download again`, {
        expiresAt: claims.expiresAt,
      });
    }
    return answer(downloadFile(item.productId, claims.choices), undefined);
  }
}
