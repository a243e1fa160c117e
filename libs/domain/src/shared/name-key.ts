/**
 * The form in which two names or domains are the same name: NFC (a precomposed "é" and "e" plus a
 * combining accent are one letter) and case folded. JavaScript has no case-folding primitive;
 * upper- then lower-casing gives full folding for the cases that matter here ("ß" and "SS" become
 * "ss", "Σ" and "ς" become "σ"), which plain lower-casing does not.
 *
 * @example nameKey('Straße') === nameKey('STRASSE') // true
 */
export function nameKey(text: string): string {
  return text.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}
