import type { LogPosition } from '@csp/event-store';
import { catchUpReport } from './projection-supervisor.service';

const at = (commit: number): LogPosition => ({ commit: BigInt(commit), prepare: BigInt(commit) });

describe('catchUpReport', () => {
  const names = ['orders', 'ledger', 'integration-events'];

  it('names the position of the projection furthest behind, as a share of the head', () => {
    const folded = new Map([
      ['orders', at(900)],
      ['ledger', at(250)],
      ['integration-events', at(600)],
    ]);
    expect(catchUpReport(folded, names, at(1000), 12)).toMatch(/^catching up with the log before answering \(12 s so far\): every projection has folded up to position 250 of 1000 \(25 %\)/);
  });

  it('counts a projection that has reported nothing yet as at the start of the log', () => {
    const folded = new Map([
      ['orders', at(900)],
      ['ledger', at(800)],
    ]);
    expect(catchUpReport(folded, names, at(1000), 5)).toContain('folded up to position 0 of 1000 (0 %)');
  });

  it('rounds the share down to a tenth, so it reads 100 % only at the head', () => {
    const folded = new Map(names.map((name) => [name, at(999_999)]));
    expect(catchUpReport(folded, names, at(1_000_000), 90)).toContain('(99.9 %)');
  });

  it('points at the one-pass rebuild for a large log', () => {
    expect(catchUpReport(new Map(), names, at(10), 5)).toContain('npm run cli -- projections rebuild --all before the start folds a large log faster');
  });
});
