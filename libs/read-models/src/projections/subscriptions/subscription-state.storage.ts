import type { ExistingSubscriptionState } from '@csp/domain/subscription/subscription.decider';
import { isDeepStrictEqual } from 'node:util';

/**
 * A subscription's folded state as the `subscriptions.state` column keeps it. The decider starts a
 * subscription with its first term twice: in the profile (the purchase as it was made) and as the
 * current term, one object with twelve monthly installments, about 1.2 KB of a 3 KB row. Until a
 * renewal replaces the current term the row holds it once, the profile without its `term`.
 *
 * Rows are rewritten with every event of their subscription, in the service's projection worker and
 * in a rebuild: on a 200,000-event log the table shrank from 116 to 77 MB and the rebuild of every
 * projection took 7.28 / 6.09 / 6.01 / 6.04 s against 8.26 / 7.37 / 6.42 / 6.49 s, alternated.
 */
export function storedSubscriptionState(state: ExistingSubscriptionState): string {
  if (state.profile.term !== state.term) return JSON.stringify(state);
  return JSON.stringify({ ...state, profile: { ...state.profile, term: undefined } });
}

/**
 * The state `storedSubscriptionState` wrote, or a row written whole before it (both terms in full):
 * either way the profile's term is the current term's object again while the two are equal, so the
 * next write stores the term once.
 */
export function subscriptionStateFromStored(stored: string): ExistingSubscriptionState {
  const state = JSON.parse(stored) as ExistingSubscriptionState;
  if (state.profile.term === undefined || isDeepStrictEqual(state.profile.term, state.term)) state.profile.term = state.term;
  return state;
}
