import type { RecordedEvent } from '@csp/event-store';
import { projectEvents } from '@csp/testing/fixtures/commerce-log.fixture';
import { readModelDialects, type OpenedReadModels } from '@csp/testing/read-model-dialects';
import type { ReadModelDb } from '../../schema';
import { activityLogProjection } from './activity-log.projection';

let sequence = 0;
function recorded(type: string, data: Record<string, string | number>, metadata: Record<string, string> = {}): RecordedEvent {
  sequence++;
  return {
    id: `event-${String(sequence).padStart(3, '0')}`,
    streamName: 'software-sub-1',
    revision: BigInt(sequence),
    position: { commit: BigInt(sequence), prepare: BigInt(sequence) },
    type,
    data,
    metadata,
    recordedAt: '2026-12-01T00:00:00.000Z',
  };
}

const item = { softwareId: 'sub-1', customerId: 'customer-1', productTitle: 'Windows Server 2022 Datacenter' };
const agent = { userId: 'agent-7', userName: 'Ada Agent', tenantId: 'partner-7' };

describe.each(readModelDialects)('activity-log projection on $name', (dialect) => {
  let opened: OpenedReadModels;
  let db: ReadModelDb;

  beforeEach(async () => {
    opened = await dialect.open();
    db = opened.db;
  });
  afterEach(() => opened.cleanup());

  const rows = () => db.selectFrom('activity_log').selectAll().orderBy('occurred_at').orderBy('id').execute();

  it('one row per access with who, when, customer, partner and product; nothing for keys generated or other events', async () => {
    const events = [
      recorded('CustomerRegistered', { customerId: 'customer-1', partnerId: 'partner-7', companyName: 'C', domain: 'c.example', country: 'DE', registeredAt: '2026-11-30T00:00:00.000Z' }),
      recorded('KeyGenerated', { ...item, keyId: 'k-1', generatedAt: '2026-12-01T08:00:00.000Z' }, agent),
      recorded('KeyRevealed', { ...item, keyId: 'k-1', revealedAt: '2026-12-01T08:01:00.000Z' }, agent),
      recorded('DownloadStarted', { ...item, downloadId: 'd-1', startedAt: '2026-12-01T08:02:00.000Z' }, agent),
      recorded('DownloadLinkIssued', { ...item, linkId: 'l-1', issuedAt: '2026-12-01T08:03:00.000Z', expiresAt: '2026-12-15T08:03:00.000Z', maxUses: 50 }, agent),
      recorded('DownloadLinkUsed', { ...item, linkId: 'l-1', useNumber: 1, usedAt: '2026-12-01T08:04:00.000Z' }, { userId: 'link:l-1' }),
    ];
    await projectEvents(db, events, [activityLogProjection]);
    await projectEvents(db, events, [activityLogProjection]);

    const common = { customer_id: 'customer-1', partner_id: 'partner-7', software_id: 'sub-1', product_title: 'Windows Server 2022 Datacenter' };
    expect(await rows()).toEqual([
      { ...common, id: events[2]!.id, occurred_at: '2026-12-01T08:01:00.000Z', action: 'key_revealed', user_id: 'agent-7', user_name: 'Ada Agent' },
      { ...common, id: events[3]!.id, occurred_at: '2026-12-01T08:02:00.000Z', action: 'download_started', user_id: 'agent-7', user_name: 'Ada Agent' },
      { ...common, id: events[4]!.id, occurred_at: '2026-12-01T08:03:00.000Z', action: 'download_link_issued', user_id: 'agent-7', user_name: 'Ada Agent' },
      { ...common, id: events[5]!.id, occurred_at: '2026-12-01T08:04:00.000Z', action: 'download_link_used', user_id: 'link:l-1', user_name: null },
    ]);
  });

  it('an access of a customer it never saw registered belongs to no partner', async () => {
    await projectEvents(db, [recorded('KeyRevealed', { ...item, customerId: 'stranger', keyId: 'k-1', revealedAt: '2026-12-01T08:01:00.000Z' }, agent)], [activityLogProjection]);
    expect((await rows()).map((row) => row.partner_id)).toEqual(['']);
  });
});
