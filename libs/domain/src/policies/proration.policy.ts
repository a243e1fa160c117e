import { divideRoundHalfEven, money, type Money } from '../shared/money';
import { DAY_MS, toMs } from '../shared/time';
import { termDaysOf } from './term.policy';

export interface ProratedRefund {
  usedDays: number;
  termDays: number;
  usedCost: Money;
  refund: Money;
}

/**
 * usedDays = ceil((t - termStart) / 1 day), at least 1;
 * usedCost = round_half_even(termPrice × usedDays / termDays);
 * refund = max(0, chargedForThisTerm - usedCost).
 */
export function proratedRefund(input: {
  termStart: string;
  termEnd: string;
  termPrice: Money;
  chargedForTerm: Money;
  at: string;
}): ProratedRefund {
  const elapsed = toMs(input.at) - toMs(input.termStart);
  const usedDays = Math.max(1, Math.ceil(elapsed / DAY_MS));
  const termDays = termDaysOf(input.termStart, input.termEnd);
  const usedCost = Number(divideRoundHalfEven(BigInt(input.termPrice.amount) * BigInt(usedDays), BigInt(termDays)));
  const currency = input.termPrice.currency;
  return {
    usedDays,
    termDays,
    usedCost: money(usedCost, currency),
    refund: money(Math.max(0, input.chargedForTerm.amount - usedCost), currency),
  };
}
