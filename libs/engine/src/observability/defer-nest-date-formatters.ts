/*
 * Imported for its effect, before anything that loads `@nestjs/common`: loads the package so that
 * the two `Intl.DateTimeFormat`s it builds while loading (the timestamps of Nest's console logger)
 * are built on their first use instead. Building them maps about 6 MiB of the Node binary's ICU
 * data into the process for good (measured after the benchmark's HTTP runs: ICU pages resident
 * 7.0 → 1.1 MiB, the binary's resident pages 51.5 → 44.6 MiB), and a process started with
 * `nestLoggerBeforeStart()` and then pino prints through Nest's console logger only at
 * LOG_LEVEL=debug. Every other `Intl.DateTimeFormat` is the real one: the constructor is put back
 * once the package has loaded.
 */
const IcuDateTimeFormat = Intl.DateTimeFormat;
Intl.DateTimeFormat = new Proxy(IcuDateTimeFormat, {
  construct: (_, args: ConstructorParameters<typeof Intl.DateTimeFormat>) => deferredDateTimeFormat(args),
});
try {
  require('@nestjs/common');
} finally {
  Intl.DateTimeFormat = IcuDateTimeFormat;
}

function deferredDateTimeFormat(args: ConstructorParameters<typeof Intl.DateTimeFormat>): Intl.DateTimeFormat {
  let built: Intl.DateTimeFormat | undefined;
  const formatter = (): Intl.DateTimeFormat => (built ??= new IcuDateTimeFormat(...args));
  return new Proxy({} as Intl.DateTimeFormat, {
    get: (_, key) => {
      const value: unknown = Reflect.get(formatter(), key);
      return typeof value === 'function' ? value.bind(formatter()) : value;
    },
  });
}

export {};
