import { createHash } from 'node:crypto';
import { ledgerEntryIdParts, type LedgerEntry } from './ledger-entry';

/**
 * One entry in the checksum's canonical form: eleven fields joined by `|`, no line break:
 *
 *     id|kind|customerId|orderId|subscriptionId|supportRequestId|amount|currency|invoicePeriod|position|occurredAt
 *
 * - `amount` is the signed integer of minor units in decimal, `-` for negatives, no `+`, no
 *   leading zeros, zero as `0`; `currency` the ISO 4217 code.
 * - Absent ids (`orderId`, `subscriptionId`, `supportRequestId`) are empty fields.
 * - Every field is written verbatim except three characters, percent-encoded so that a field can
 *   never forge a separator: `%` → `%25`, `|` → `%7C`, line feed → `%0A`, carriage return → `%0D`
 *   (upper-case hex; `%` first). The ids and instants this service writes never contain them.
 * - `reason` is not part of it: it is wording for people, and rewording must not change the checksum.
 *
 * @example canonicalLedgerLine(charge)
 *   // 'evt-1:0|charge|cust-1|order-1|sub-1||30417|EUR|2026-01|42.42|2026-01-01T00:00:00.000Z'
 */
export function canonicalLedgerLine(entry: LedgerEntry): string {
  return [
    entry.id,
    entry.kind,
    entry.customerId,
    entry.orderId ?? '',
    entry.subscriptionId ?? '',
    entry.supportRequestId ?? '',
    String(entry.amount.amount),
    entry.amount.currency,
    entry.invoicePeriod,
    entry.position,
    entry.occurredAt,
  ]
    .map(escapeField)
    .join('|');
}

/**
 * SHA-256, lower-case hex, over the UTF-8 bytes of the canonical rendering of the entries, so a
 * finance tool can recompute it from an export:
 *
 * 1. Sort the entries by `position` as log positions: split `<commit>.<prepare>` at the dot,
 *    compare `commit` as an unbounded integer, then `prepare` as an unbounded integer; entries of
 *    one position (one event's entries, ids `<event id>:<index>`) by the id without its `:<index>`
 *    ending, compared as strings code unit by code unit (byte order for ASCII ids), then by the
 *    index as an integer (an id without such an ending before any with one), so a cancellation's
 *    eleventh void comes after its second. Until the twenty-fourth round every event gave at most
 *    one entry and ids of one position were compared as whole strings; no ledger of that time sorts
 *    differently under this rule, so no checksum changed.
 * 2. Render each with {@link canonicalLedgerLine} and end every line with a line feed (`\n`,
 *    including the last one). No entries: the empty string, whose SHA-256 is `e3b0c442…b855`.
 *
 * The order of `entries` does not matter; the same entries always give the same checksum.
 *
 * @example ledgerChecksum(await ledger.entries()) // 64 lower-case hex digits
 */
export function ledgerChecksum(entries: readonly LedgerEntry[]): string {
  const rendering = [...entries]
    .sort(compareLedgerEntries)
    .map((entry) => `${canonicalLedgerLine(entry)}\n`)
    .join('');
  return createHash('sha256').update(rendering, 'utf8').digest('hex');
}

/** Log order, then id: the canonical order of the checksum. */
export function compareLedgerEntries(a: LedgerEntry, b: LedgerEntry): number {
  return compareLogPositions(a.position, b.position) || compareEntryIds(a.id, b.id);
}

/**
 * Compares two `<commit>.<prepare>` strings as numbers (`'9.9'` before `'10.10'`). The domain does
 * not import the event store, so it parses the form itself.
 */
export function compareLogPositions(a: string, b: string): number {
  const [aCommit, aPrepare] = parsePosition(a);
  const [bCommit, bPrepare] = parsePosition(b);
  if (aCommit !== bCommit) return aCommit < bCommit ? -1 : 1;
  if (aPrepare !== bPrepare) return aPrepare < bPrepare ? -1 : 1;
  return 0;
}

function parsePosition(position: string): [bigint, bigint] {
  const match = /^(\d+)\.(\d+)$/.exec(position);
  if (!match) throw new RangeError(`Not a log position (<commit>.<prepare>): ${position}`);
  return [BigInt(match[1]!), BigInt(match[2]!)];
}

/** By the id without its `:<index>` ending as text, then by that index as a number (none first). */
function compareEntryIds(a: string, b: string): number {
  const [aSource, aIndex] = splitEntryId(a);
  const [bSource, bIndex] = splitEntryId(b);
  return compareCodeUnits(aSource, bSource) || aIndex - bIndex;
}

function splitEntryId(id: string): [source: string, index: number] {
  const parts = ledgerEntryIdParts(id);
  return parts ? [parts.source, parts.index] : [id, -1];
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function escapeField(field: string): string {
  return field.replace(/[%|\n\r]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}
