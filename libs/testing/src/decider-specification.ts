import { fold, type Decider } from '@csp/domain/shared/decider';
import { DomainError } from '@csp/domain/shared/domain-error';
import type { DomainEvent } from '@csp/domain/shared/event';

/**
 * Given/when/then for deciders (after emmett's DeciderSpecification).
 *
 * @example
 *   spec.given([orderPlaced]).when(cancel).then([perpetualLineCancelled]);
 *   spec.given([orderPlaced, cancelled]).when(cancel).thenThrows('ALREADY_CANCELLED');
 */
export function deciderSpecification<Command, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
) {
  return {
    given(history: Event[]) {
      return {
        when(command: Command) {
          const run = (): Event[] => decider.decide(command, fold(decider, history));
          return {
            then(expected: Event[]): Event[] {
              const produced = run();
              expect(produced).toEqual(expected);
              return produced;
            },
            /** Returns the produced events for assertions on parts of them. */
            thenEvents(): Event[] {
              return run();
            },
            thenThrows(code: string, details?: Record<string, unknown>): DomainError {
              let caught: unknown;
              try {
                run();
              } catch (error) {
                caught = error;
              }
              expect(caught).toBeInstanceOf(DomainError);
              const domainError = caught as DomainError;
              expect(domainError.code).toBe(code);
              if (details) expect(domainError.details).toMatchObject(details);
              return domainError;
            },
          };
        },
      };
    },
  };
}
