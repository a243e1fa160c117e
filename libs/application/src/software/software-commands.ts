import type { DownloadChoices } from '@csp/domain/software/software.events';
import { Command } from '@nestjs/cqrs';
import type { CommandAnswer } from '../command-handling/command-answer';
import type { CommandContext } from '../command-handling/command-context';
import type { DownloadFile } from './download-file';

/** Which software item of which customer a command is about, and who asks. */
export interface SoftwareTarget {
  context: CommandContext;
  customerRef: string;
  softwareId: string;
}

export interface GeneratedKeyView {
  keyId: string;
  keyType: 'MAK';
  installationInstructionsUrl?: string;
}

export interface RevealedKeyView {
  productKey: string;
  installationInstructionsUrl?: string;
}

/** The design card's `GenerateKey`: a MAK for the item with the chosen download options (no key text in the answer). */
export class GenerateKeyCommand extends Command<CommandAnswer<GeneratedKeyView>> {
  constructor(
    readonly target: SoftwareTarget,
    readonly choices: DownloadChoices,
    readonly keyType?: string,
  ) {
    super();
  }
}

export class RevealKeyCommand extends Command<CommandAnswer<RevealedKeyView>> {
  constructor(
    readonly target: SoftwareTarget,
    readonly keyId: string,
  ) {
    super();
  }
}

export class StartDownloadCommand extends Command<CommandAnswer<{ downloadUrl: string }>> {
  constructor(
    readonly target: SoftwareTarget,
    readonly choices: DownloadChoices,
  ) {
    super();
  }
}

export class IssueDownloadLinkCommand extends Command<CommandAnswer<{ url: string; expiresAt: string }>> {
  constructor(
    readonly target: SoftwareTarget,
    readonly choices: DownloadChoices,
  ) {
    super();
  }
}

/**
 * Fetching the bits behind a download token, by whoever holds it: a shared link's use is counted and
 * recorded (`DownloadLinkUsed`), a started download's address is only checked.
 */
export class UseDownloadTokenCommand extends Command<CommandAnswer<DownloadFile>> {
  constructor(
    readonly token: string,
    readonly correlationId: string,
  ) {
    super();
  }
}
