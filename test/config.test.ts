import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

/** loadConfig takes the environment as an argument, so these never touch process.env. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig', () => {
  it('falls back to defaults for everything', () => {
    expect(loadConfig({})).toEqual({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATA_DIR: './data/pglite',
      DB_POOL_MAX: 10,
      REPLICA_MAX_LAG_MS: 2_000,
      LOG_LEVEL: 'info',
      TRUST_PROXY: false,
      BODY_LIMIT: '1mb',
      IMPORT_BODY_LIMIT: '20mb',
      STATEMENT_TIMEOUT_MS: 15_000,
      RATE_LIMIT_WINDOW_SECONDS: 60,
      RATE_LIMIT_ANONYMOUS: 60,
      RATE_LIMIT_AUTHENTICATED: 600,
      RATE_LIMIT_FAILED_AUTH: 20,
      SEED_ON_FIRST_START: true,
      PUBLIC_CACHE_SECONDS: 5,
      PUBLIC_STALE_SECONDS: 30,
      STATISTICS_IN_MEMORY: true,
      PUBLIC_SITE: true,
      WEBHOOKS_ALLOW_PRIVATE: false,
      WEBHOOKS_WORKER: true,
      WEBHOOKS_TIMEOUT_MS: 10_000,
      SHUTDOWN_GRACE_MS: 10_000,
      HEADERS_TIMEOUT_MS: 10_000,
      REQUEST_TIMEOUT_MS: 120_000,
    });
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
  });

  it('reads and converts the values it is given', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://user:pw@db:5432/dateline',
      DATA_DIR: '/var/lib/dateline',
      DB_POOL_MAX: '25',
      LOG_LEVEL: 'debug',
      BODY_LIMIT: '512kb',
      RATE_LIMIT_WINDOW_SECONDS: '30',
      RATE_LIMIT_ANONYMOUS: '5',
      RATE_LIMIT_AUTHENTICATED: '50',
      SEED_ON_FIRST_START: 'false',
      SHUTDOWN_GRACE_MS: '0',
    });
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://user:pw@db:5432/dateline',
      DATA_DIR: '/var/lib/dateline',
      DB_POOL_MAX: 25,
      LOG_LEVEL: 'debug',
      BODY_LIMIT: '512kb',
      RATE_LIMIT_WINDOW_SECONDS: 30,
      RATE_LIMIT_ANONYMOUS: 5,
      RATE_LIMIT_AUTHENTICATED: 50,
      SEED_ON_FIRST_START: false,
      SHUTDOWN_GRACE_MS: 0,
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://localhost/x' }).DATABASE_URL).toBe('postgres://localhost/x');
    expect(loadConfig({ PORT: '0' }).PORT).toBe(0); // "any free port"
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'production' })).toEqual(loadConfig({}));
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'localhost:5432'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_LEVEL', 'INFO'],
    ['BODY_LIMIT', 'huge'],
    ['BODY_LIMIT', '10gb'],
    ['SEED_ON_FIRST_START', 'maybe'],
    ['DB_POOL_MAX', '0'],
    ['DB_POOL_MAX', '1000'],
    ['RATE_LIMIT_ANONYMOUS', 'lots'],
    ['SHUTDOWN_GRACE_MS', '-5'],
  ])('rejects %s=%s with a ConfigError naming the variable', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain('Invalid configuration');
    expect(error.message).toContain(`${name}=${JSON.stringify(value)}`);
  });

  it('says what is wrong, not just where', () => {
    expect(configError({ DATABASE_URL: 'mysql://x' }).message).toMatch(/postgres:\/\//);
    expect(configError({ BODY_LIMIT: 'huge' }).message).toMatch(/512kb/);
    expect(configError({ SEED_ON_FIRST_START: 'maybe' }).message).toMatch(/true or false/);
  });

  it('reports every bad variable at once', () => {
    const { message } = configError({ PORT: 'abc', LOG_LEVEL: 'loud', BODY_LIMIT: 'huge' });
    expect(message).toContain('PORT="abc"');
    expect(message).toContain('LOG_LEVEL="loud"');
    expect(message).toContain('BODY_LIMIT="huge"');
    expect(message.split('\n')).toHaveLength(4);
  });

  it('treats an empty variable as unset', () => {
    const empty = Object.fromEntries(
      [
        'PORT',
        'HOST',
        'DATABASE_URL',
        'DATA_DIR',
        'DB_POOL_MAX',
        'LOG_LEVEL',
        'TRUST_PROXY',
        'BODY_LIMIT',
        'SEED_ON_FIRST_START',
        'SHUTDOWN_GRACE_MS',
      ].map((name) => [name, '']),
    );
    expect(loadConfig(empty)).toEqual(loadConfig({}));
    expect(loadConfig({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
    expect(loadConfig({ PORT: '', LOG_LEVEL: 'warn' })).toMatchObject({ PORT: 3000, LOG_LEVEL: 'warn' });
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('reads SEED_ON_FIRST_START=%s as %s', (value, expected) => {
    expect(loadConfig({ SEED_ON_FIRST_START: value }).SEED_ON_FIRST_START).toBe(expected);
  });

  it.each([
    ['true', true],
    ['false', false],
    ['0', 0],
    ['1', 1],
    ['2', 2],
    ['loopback', 'loopback'],
    ['loopback, 10.0.0.0/8', 'loopback, 10.0.0.0/8'],
    ['10.0.0.1', '10.0.0.1'],
  ])('reads TRUST_PROXY=%s as %j', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).TRUST_PROXY).toStrictEqual(expected);
  });
});
