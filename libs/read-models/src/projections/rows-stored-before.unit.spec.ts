import type { RecordedEvent } from '@csp/event-store';
import { idsPossiblyStored } from './rows-stored-before';

const orderStream = (id: string) => `order-${id}`;

function event(streamName: string, revision: bigint): RecordedEvent {
  return { streamName, revision, type: 'Any', data: {} } as unknown as RecordedEvent;
}

describe('idsPossiblyStored', () => {
  it('leaves out the ids whose own stream begins in the events', () => {
    const events = [event('order-placed-here', 0n), event('order-placed-here', 1n), event('order-placed-before', 3n)];

    expect(idsPossiblyStored(events, ['placed-here', 'placed-before', 'not-in-batch'], orderStream)).toEqual(['placed-before', 'not-in-batch']);
  });

  it('keeps an id when only another stream begins in the events, such as a subscription of its order', () => {
    const events = [event('subscription-placed-before', 0n)];

    expect(idsPossiblyStored(events, ['placed-before'], orderStream)).toEqual(['placed-before']);
  });

  it('keeps every id when the events continue streams begun before', () => {
    const events = [event('order-a', 1n), event('order-b', 7n)];

    expect(idsPossiblyStored(events, ['a', 'b'], orderStream)).toEqual(['a', 'b']);
  });
});
