import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_ENV_VARS, ConfigError, DEFAULT_CATEGORY, parseConfig } from '../lib/config.js';
import { projectRoot } from './support/fixtures.js';

const SOURCE = 'organizations/123456789012/sources/555';

describe('parseConfig', () => {
  it('applies defaults', () => {
    expect(parseConfig({ SCC_SOURCE_NAME: SOURCE })).toEqual({
      sccSourceName: SOURCE,
      categories: [DEFAULT_CATEGORY],
      maxEventAgeSeconds: 86400,
      dryRun: false,
      logLevel: 'info',
      sccEmulatorHost: null,
    });
  });

  it('reads every variable', () => {
    const c = parseConfig({
      SCC_SOURCE_NAME: SOURCE,
      TRIAGE_CATEGORIES: `${DEFAULT_CATEGORY}, SOCAT_REVERSE_SHELL`,
      MAX_EVENT_AGE_SECONDS: '3600',
      DRY_RUN: 'false',
      LOG_LEVEL: 'DEBUG',
      SCC_EMULATOR_HOST: '127.0.0.1:8086',
    });
    expect(c.categories).toEqual([DEFAULT_CATEGORY, 'SOCAT_REVERSE_SHELL']);
    expect(c.maxEventAgeSeconds).toBe(3600);
    expect(c.logLevel).toBe('debug');
    expect(c.sccEmulatorHost).toBe('127.0.0.1:8086');
  });

  it.each([
    [{}, 'SCC_SOURCE_NAME', /required unless DRY_RUN/],
    [{ SCC_SOURCE_NAME: 'organizations/1/sources' }, 'SCC_SOURCE_NAME', /expected organizations\/ORG_ID/],
    [{ SCC_SOURCE_NAME: SOURCE, DRY_RUN: 'maybe' }, 'DRY_RUN', /true or false/],
    [{ SCC_SOURCE_NAME: SOURCE, MAX_EVENT_AGE_SECONDS: '-5' }, 'MAX_EVENT_AGE_SECONDS', /whole number/],
    [{ SCC_SOURCE_NAME: SOURCE, MAX_EVENT_AGE_SECONDS: '5' }, 'MAX_EVENT_AGE_SECONDS', /between 60/],
    [{ SCC_SOURCE_NAME: SOURCE, LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /expected one of/],
    [{ SCC_SOURCE_NAME: SOURCE, TRIAGE_CATEGORIES: ' , ' }, 'TRIAGE_CATEGORIES', /no category/],
    [{ SCC_SOURCE_NAME: SOURCE, SCC_EMULATOR_HOST: 'securitycenter.example.com:443' }, 'SCC_EMULATOR_HOST', /loopback/],
    [{ SCC_SOURCE_NAME: SOURCE, SCC_EMULATOR_HOST: '10.0.0.5:8080' }, 'SCC_EMULATOR_HOST', /loopback/],
  ])('rejects %j naming %s', (env, variable, message) => {
    let caught: unknown;
    try {
      parseConfig(env);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).variable).toBe(variable);
    expect((caught as ConfigError).message).toMatch(message);
  });

  it('accepts IPv6 loopback and localhost emulator endpoints', () => {
    expect(parseConfig({ DRY_RUN: 'true', SCC_EMULATOR_HOST: '[::1]:9000' }).sccEmulatorHost).toBe('[::1]:9000');
    expect(parseConfig({ DRY_RUN: 'true', SCC_EMULATOR_HOST: 'localhost:9000' }).sccEmulatorHost).toBe('localhost:9000');
  });

  it('every variable is documented in the README configuration table', () => {
    const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
    for (const v of CONFIG_ENV_VARS) expect(readme).toContain(`| \`${v.name}\``);
  });
});
