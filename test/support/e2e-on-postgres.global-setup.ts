import { startSchemaRun } from './e2e-schema-names';

/** Names this run's PostgreSQL schemas before any worker starts (see `e2e-schema-names`). */
export default function nameE2eSchemaRun(): void {
  startSchemaRun();
}
