// Selects the EventStoreDB adapter for the e2e harness in the `e2e-eventstoredb` jest project.
process.env['E2E_EVENT_STORE'] = 'esdb';
