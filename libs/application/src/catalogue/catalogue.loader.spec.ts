import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { InvalidCatalogueError } from '@csp/domain/catalogue';
import { CATALOGUE_FILE_ENV, defaultCatalogueFile, findRepoRoot, loadCatalogue } from './catalogue.loader';

const repoRoot = join(__dirname, '../../../..');

const oneSku = {
  productId: 'TEST',
  skuId: 'TEST:P1Y',
  title: 'Test product',
  publisher: 'Microsoft',
  kind: 'SoftwareSubscription',
  termDuration: 'P1Y',
  billingCycles: ['annual'],
  prices: { DE: { amount: 100, currency: 'EUR' } },
  deliversKeys: false,
  downloadOptions: { versions: [], languages: [], fileTypes: [], operatingSystems: [] },
  cancellable: true,
  exchangeable: true,
};

describe('loadCatalogue', () => {
  let dir: string;
  const savedEnv = process.env[CATALOGUE_FILE_ENV];
  const write = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'catalogue-'));
    delete process.env[CATALOGUE_FILE_ENV];
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    if (savedEnv === undefined) delete process.env[CATALOGUE_FILE_ENV];
    else process.env[CATALOGUE_FILE_ENV] = savedEnv;
  });

  it('loads the shipped data/catalogue.json by default', () => {
    expect(defaultCatalogueFile()).toBe(join(repoRoot, 'data', 'catalogue.json'));
    const catalogue = loadCatalogue();
    expect(catalogue.find('windows-server-2022-datacenter-2core:P3Y')?.billingCycles).toEqual(['annual', 'triennial']);
  });

  it('prefers the file named in CATALOGUE_FILE', () => {
    process.env[CATALOGUE_FILE_ENV] = write('env.json', JSON.stringify({ skus: [oneSku] }));
    expect(loadCatalogue().list().map((sku) => sku.skuId)).toEqual(['TEST:P1Y']);
  });

  it('prefers an explicit path to CATALOGUE_FILE', () => {
    process.env[CATALOGUE_FILE_ENV] = join(dir, 'missing.json');
    const path = write('explicit.json', JSON.stringify({ skus: [oneSku] }));
    expect(loadCatalogue(path).find('TEST:P1Y')?.title).toBe('Test product');
  });

  it('refuses a file with problems, naming the file and every problem', () => {
    const path = write('bad.json', JSON.stringify({ skus: [oneSku, { ...oneSku, billingCycles: ['weekly'] }] }));
    const load = () => loadCatalogue(path);
    expect(load).toThrow(InvalidCatalogueError);
    expect(load).toThrow(`Invalid catalogue file ${path} (2 problems):`);
    expect(load).toThrow('- sku "TEST:P1Y": duplicate skuId (entries #1 and #2)');
    expect(load).toThrow('- sku "TEST:P1Y": unknown billing cycle "weekly"');
  });

  it('refuses a file that is not JSON', () => {
    const path = write('broken.json', '{ "skus": [');
    expect(() => loadCatalogue(path)).toThrow(/not valid JSON/);
  });

  it('refuses JSON without a skus list', () => {
    const path = write('list.json', JSON.stringify([oneSku]));
    expect(() => loadCatalogue(path)).toThrow('expected an object with a "skus" list at the top level');
  });

  it('says which file it could not read', () => {
    const path = join(dir, 'absent.json');
    expect(() => loadCatalogue(path)).toThrow(`Cannot read catalogue file ${path}`);
  });
});

describe('findRepoRoot', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'repo-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds the root from compiled output deep under dist/', () => {
    mkdirSync(join(root, 'data'));
    writeFileSync(join(root, 'package.json'), '{}');
    writeFileSync(join(root, 'data', 'catalogue.json'), '{"skus":[]}');
    const compiled = join(root, 'dist', 'libs', 'application', 'src', 'catalogue');
    mkdirSync(compiled, { recursive: true });
    expect(findRepoRoot(compiled)).toBe(root);
  });

  it('skips a nested package.json that has no catalogue beside it', () => {
    mkdirSync(join(root, 'data'));
    writeFileSync(join(root, 'package.json'), '{}');
    writeFileSync(join(root, 'data', 'catalogue.json'), '{"skus":[]}');
    const nested = join(root, 'node_modules', 'some-package');
    mkdirSync(nested, { recursive: true });
    writeFileSync(join(nested, 'package.json'), '{}');
    expect(findRepoRoot(nested)).toBe(root);
  });

  it('tells the operator to set CATALOGUE_FILE when there is no repository above', () => {
    expect(() => findRepoRoot(root)).toThrow(/set CATALOGUE_FILE/);
  });
});
