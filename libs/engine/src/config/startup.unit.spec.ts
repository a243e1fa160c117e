import { boundUrl, listenAddressFromEnv, startupFailureText } from './startup';

describe('start-up address and failure lines', () => {
  it('listens on 127.0.0.1 unless HOST says otherwise, on the named port variable', () => {
    expect(listenAddressFromEnv({}, { portVariable: 'PROJECTOR_PORT', defaultPort: 3001 })).toEqual({ host: '127.0.0.1', port: 3001 });
    expect(listenAddressFromEnv({ HOST: '0.0.0.0', PROJECTOR_PORT: '4001' }, { portVariable: 'PROJECTOR_PORT', defaultPort: 3001 })).toEqual({ host: '0.0.0.0', port: 4001 });
    expect(() => listenAddressFromEnv({ PORT: '80a' }, { portVariable: 'PORT', defaultPort: 3000 })).toThrow('PORT must be a port number (0-65535), got 80a');
    expect(() => listenAddressFromEnv({ HOST: 'a b' }, { portVariable: 'PORT', defaultPort: 3000 })).toThrow(/^HOST must be an address/);
  });

  it.each(['70000', 'http', '-1', '80.5'])('refuses PORT=%s', (value) => {
    expect(() => listenAddressFromEnv({ PORT: value }, { portVariable: 'PORT', defaultPort: 3000 })).toThrow(/PORT/);
  });

  it('takes an empty HOST or port variable as unset, not as an address the system picks', () => {
    expect(listenAddressFromEnv({ HOST: '', PORT: '' }, { portVariable: 'PORT', defaultPort: 3000 })).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(listenAddressFromEnv({ PORT: '0' }, { portVariable: 'PORT', defaultPort: 3000 })).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('prints the address really bound, IPv6 in brackets', () => {
    expect(boundUrl({ address: '127.0.0.1', port: 41234 }, { host: '127.0.0.1', port: 0 })).toBe('http://127.0.0.1:41234');
    expect(boundUrl({ address: '::', port: 3000 }, { host: '::', port: 3000 })).toBe('http://[::]:3000');
  });

  it('says what to do about a port in use, in one line; the stack only at LOG_LEVEL=debug', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:3000'), { code: 'EADDRINUSE' });
    const listen = { host: '127.0.0.1', port: 3000, portVariable: 'PORT' };
    expect(startupFailureText(inUse, {}, listen)).toBe('127.0.0.1:3000 is already in use by another process: stop it, or set PORT to a free port\n');
    expect(startupFailureText(new Error('first\nsecond'), {})).toBe('first second\n');
    const withStack = startupFailureText(new Error('broken'), { LOG_LEVEL: 'debug' });
    expect(withStack.split('\n')[0]).toBe('broken');
    expect(withStack).toMatch(/\n {4}at /);
  });
});
