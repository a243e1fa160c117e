import type { WebhookRetrySettings } from './webhook-retry.policy';

/** What the engine's configuration says about webhooks. */
export interface WebhookSettings {
  retry: WebhookRetrySettings;
  /** `WEBHOOK_ALLOWED_HOSTS`: host names or addresses that may be loopback or private, and plain http. */
  allowedHosts: readonly string[];
  /** How long one delivery attempt may take before it counts as failed. */
  attemptTimeoutMs: number;
}

/** Injection token of the `WebhookSettings`. */
export const WEBHOOK_SETTINGS = Symbol('WEBHOOK_SETTINGS');
