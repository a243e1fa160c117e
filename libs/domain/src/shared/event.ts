/** A domain event: a stable past-tense `type` and JSON-safe `data` (emmett's `Event<Type, Data>`). */
export interface DomainEvent<Type extends string = string, Data extends object = object> {
  type: Type;
  data: Data;
}
