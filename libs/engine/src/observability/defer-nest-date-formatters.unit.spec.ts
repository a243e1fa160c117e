import type * as NestCommon from '@nestjs/common';

describe('defer-nest-date-formatters', () => {
  const IcuDateTimeFormat = Intl.DateTimeFormat;
  let built: number;
  let countingDateTimeFormat: typeof Intl.DateTimeFormat;

  beforeEach(() => {
    built = 0;
    countingDateTimeFormat = new Proxy(IcuDateTimeFormat, {
      construct: (target, args) => {
        built++;
        return Reflect.construct(target, args) as object;
      },
    });
    Intl.DateTimeFormat = countingDateTimeFormat;
  });

  afterEach(() => {
    Intl.DateTimeFormat = IcuDateTimeFormat;
    jest.restoreAllMocks();
  });

  it('loads @nestjs/common without building a date formatter', () => {
    jest.isolateModules(() => {
      require('./defer-nest-date-formatters');
      expect(built).toBe(0);
    });
  });

  it('builds the formatter when Nest’s console logger first prints, and prints a timestamp with it', () => {
    jest.isolateModules(() => {
      require('./defer-nest-date-formatters');
      const { ConsoleLogger } = require('@nestjs/common') as typeof NestCommon;
      const printed: string[] = [];
      jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        printed.push(String(chunk));
        return true;
      });
      const logger = new ConsoleLogger('Deferred', { colors: false });
      logger.log('first line');
      logger.log('second line');
      expect(built).toBe(1);
      expect(printed.join('')).toMatch(/\d{1,2}:\d{2}:\d{2}.*first line/);
    });
  });

  it('puts the real constructor back once the package has loaded', () => {
    jest.isolateModules(() => {
      require('./defer-nest-date-formatters');
    });
    expect(Intl.DateTimeFormat).toBe(countingDateTimeFormat);
    expect(new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric' }).format(Date.UTC(2021, 9, 14))).toBe('2021');
    expect(built).toBe(1);
  });
});
