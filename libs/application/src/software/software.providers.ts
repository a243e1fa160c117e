import type { Provider } from '@nestjs/common';
import { ExportActivityLogHandler, GetActivityLogHandler } from '../activity-log/activity-log-queries.handler';
import { derivedKey, KEY_ENCRYPTION_KEY } from '../keys/key-encryption-key';
import { DownloadTokens } from './download-tokens';
import {
  GenerateKeyHandler,
  IssueDownloadLinkHandler,
  RevealKeyHandler,
  StartDownloadHandler,
  UseDownloadTokenHandler,
} from './software-commands.handler';
import { SoftwareItems } from './software-items';
import { ListSoftwareHandler } from './software-queries.handler';
import { StreamTurns } from './stream-turns';

/** What the api needs for keys, downloads and the activity log, beside the engine's shared providers. */
export const softwareProviders: Provider[] = [
  SoftwareItems,
  StreamTurns,
  { provide: DownloadTokens, inject: [KEY_ENCRYPTION_KEY], useFactory: (masterKey: Buffer) => new DownloadTokens(derivedKey(masterKey, 'download-tokens')) },
  GenerateKeyHandler,
  RevealKeyHandler,
  StartDownloadHandler,
  IssueDownloadLinkHandler,
  UseDownloadTokenHandler,
  ListSoftwareHandler,
  GetActivityLogHandler,
  ExportActivityLogHandler,
];
