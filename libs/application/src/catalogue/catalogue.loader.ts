import { existsSync, readFileSync } from 'fs';
import { dirname, join, resolve } from 'path';
import { Catalogue, InvalidCatalogueError, validateCatalogue, type Sku } from '@csp/domain/catalogue';

export const CATALOGUE_FILE_ENV = 'CATALOGUE_FILE';
const CATALOGUE_IN_REPO = join('data', 'catalogue.json');

/**
 * Walks up from `start` to the directory holding both `package.json` and `data/catalogue.json`.
 * The same code runs as TypeScript under jest (`libs/application/src/...`) and compiled
 * (`dist/libs/application/src/...`), at different depths, so a fixed `../..` would break one of them;
 * requiring both files skips nested package folders that are not the repository root.
 */
export function findRepoRoot(start: string): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, CATALOGUE_IN_REPO))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `No directory containing package.json and ${CATALOGUE_IN_REPO} found above ${start}; set ${CATALOGUE_FILE_ENV}`,
      );
    }
    dir = parent;
  }
}

export function defaultCatalogueFile(): string {
  const configured = process.env[CATALOGUE_FILE_ENV];
  if (configured) return resolve(configured);
  return join(findRepoRoot(__dirname), CATALOGUE_IN_REPO);
}

/** Reads and validates the catalogue; a bad file stops start-up with every problem listed. */
export function loadCatalogue(filePath: string = defaultCatalogueFile()): Catalogue {
  const source = `catalogue file ${filePath}`;
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    throw new Error(`Cannot read ${source}: ${describe(error)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidCatalogueError([`not valid JSON: ${describe(error)}`], source);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { skus?: unknown }).skus)) {
    throw new InvalidCatalogueError(['expected an object with a "skus" list at the top level'], source);
  }
  const skus: unknown[] = (parsed as { skus: unknown[] }).skus;
  const problems = validateCatalogue(skus);
  if (problems.length > 0) throw new InvalidCatalogueError(problems, source);
  return new Catalogue(skus as Sku[]);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
