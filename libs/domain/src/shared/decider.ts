import type { DomainEvent } from './event';

/**
 * The decider shape (emmett): `decide` turns a command and the current state into new events
 * or throws a DomainError; `evolve` folds one event into the state; `initialState` starts the fold.
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export function fold<Event extends DomainEvent, State>(
  decider: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  events: readonly Event[],
): State {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState());
}
