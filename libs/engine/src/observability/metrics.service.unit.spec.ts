import { Metrics } from './metrics.service';

describe('Metrics', () => {
  it('still answers a scrape when a measurement fails or hangs, keeping the other metrics', async () => {
    const metrics = new Metrics();
    metrics.recordCommand('PurchaseSoftware', 'succeeded');
    metrics.measureOnScrape(() => Promise.reject(new Error('store unreachable')));
    metrics.measureOnScrape(() => new Promise<void>(() => undefined));

    const started = Date.now();
    const text = await metrics.render();

    expect(text).toMatch(/commands_total\{command="PurchaseSoftware",outcome="succeeded"\} 1/);
    expect(Date.now() - started).toBeLessThan(3000);
    metrics.onApplicationShutdown();
  });
});
