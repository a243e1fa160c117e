import type { Upcaster } from '@csp/event-store';

/**
 * Every upcaster of the domain's stored events, read by the event codec. Empty while every event
 * type is at version 1; a breaking change to a payload adds its upcaster here (see
 * `libs/event-store/src/codec/codec-event-store.int.spec.ts` for the shape).
 */
export const eventUpcasters: readonly Upcaster[] = [];
