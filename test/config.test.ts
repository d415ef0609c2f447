import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_ENV_VARS, ConfigError, DEFAULT_CATEGORY, DEFAULT_VERDICT_SETTINGS, parseConfig } from '../lib/config.js';
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
      gkeEmulatorHost: null,
      loggingEmulatorHost: null,
      gatherDeadlineMs: 20000,
      disabledGatherers: [],
      relatedWindowMinutes: 60,
      logWindowBeforeMinutes: 30,
      logWindowAfterMinutes: 10,
      logEntriesMax: 1000,
      logPagesMax: 5,
      logExcerptEntries: 5,
      logLineMaxChars: 300,
      cacheTtlSeconds: 300,
      cacheMaxEntries: 1000,
      contactsEmulatorHost: null,
      pubsubEmulatorHost: null,
      computeEmulatorHost: null,
      storageEmulatorHost: null,
      emulated: false,
      evidenceBucket: null,
      fanoutTopic: null,
      verdict: DEFAULT_VERDICT_SETTINGS,
      response: { approvers: [], autoActions: [], autoMinScore: DEFAULT_VERDICT_SETTINGS.maliciousThreshold, triageServiceAccount: null, approvalLogWindowMinutes: 60 },
    });
  });

  it('reads the capture action\'s variables; any emulator marks the whole configuration emulated', () => {
    const all = { SCC_EMULATOR_HOST: '127.0.0.1:1', GKE_EMULATOR_HOST: '127.0.0.1:2', LOGGING_EMULATOR_HOST: '127.0.0.1:3', CONTACTS_EMULATOR_HOST: '127.0.0.1:4' };
    const c = parseConfig({ SCC_SOURCE_NAME: SOURCE, ...all, COMPUTE_EMULATOR_HOST: '127.0.0.1:5', STORAGE_EMULATOR_HOST: '[::1]:6', EVIDENCE_BUCKET: 'shop-sec-evidence' });
    expect(c).toMatchObject({ computeEmulatorHost: '127.0.0.1:5', storageEmulatorHost: '[::1]:6', evidenceBucket: 'shop-sec-evidence', emulated: true });
    // The gatherers' emulators alone: emulated, so the Compute and Storage clients refuse to reach the real APIs (lib/clients.ts).
    expect(parseConfig({ SCC_SOURCE_NAME: SOURCE, ...all })).toMatchObject({ emulated: true, computeEmulatorHost: null, storageEmulatorHost: null });
  });

  it('reads every variable', () => {
    const c = parseConfig({
      SCC_SOURCE_NAME: SOURCE,
      TRIAGE_CATEGORIES: `${DEFAULT_CATEGORY}, SOCAT_REVERSE_SHELL`,
      MAX_EVENT_AGE_SECONDS: '3600',
      DRY_RUN: 'false',
      LOG_LEVEL: 'DEBUG',
      SCC_EMULATOR_HOST: '127.0.0.1:8086',
      GKE_EMULATOR_HOST: '127.0.0.1:8087',
      LOGGING_EMULATOR_HOST: 'localhost:8088',
      CONTACTS_EMULATOR_HOST: '127.0.0.1:8089',
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
    [{ SCC_SOURCE_NAME: SOURCE, SCC_EMULATOR_HOST: '127.0.0.1:1' }, 'GKE_EMULATOR_HOST', /add cluster,node,pod,namespace to DISABLED_GATHERERS/],
    [{ SCC_SOURCE_NAME: SOURCE, SCC_EMULATOR_HOST: '127.0.0.1:1', DISABLED_GATHERERS: 'cluster,node,pod,namespace' }, 'LOGGING_EMULATOR_HOST', /podLogs,auditLogs,nodeLogs,nodeK8sLogs/],
    [{ SCC_SOURCE_NAME: SOURCE, SCC_EMULATOR_HOST: '10.0.0.5:8080' }, 'SCC_EMULATOR_HOST', /loopback/],
    [{ SCC_SOURCE_NAME: SOURCE, GKE_EMULATOR_HOST: 'container.googleapis.com:443' }, 'GKE_EMULATOR_HOST', /loopback/],
    [{ SCC_SOURCE_NAME: SOURCE, DISABLED_GATHERERS: 'cluster,podlogs' }, 'DISABLED_GATHERERS', /unknown gatherer "podlogs"/],
    [{ SCC_SOURCE_NAME: SOURCE, LOG_ENTRIES_MAX: '5001' }, 'LOG_ENTRIES_MAX', /between 1 and 5000/],
    [{ SCC_SOURCE_NAME: SOURCE, LOG_PAGES_MAX: '0' }, 'LOG_PAGES_MAX', /between 1 and 50/],
    [{ SCC_SOURCE_NAME: SOURCE, VERDICT_WEIGHTS: 'no_such_signal=5' }, 'VERDICT_WEIGHTS', /no_such_signal/],
    [{ SCC_SOURCE_NAME: SOURCE, FANOUT_TOPIC: 'triage-results' }, 'FANOUT_TOPIC', /projects\/PROJECT_ID\/topics\/TOPIC/],
    [{ SCC_SOURCE_NAME: SOURCE, FANOUT_TOPIC: 'projects/sec-tools/topics/triage', SCC_EMULATOR_HOST: '127.0.0.1:1', GKE_EMULATOR_HOST: '127.0.0.1:2', LOGGING_EMULATOR_HOST: '127.0.0.1:3', CONTACTS_EMULATOR_HOST: '127.0.0.1:4' }, 'PUBSUB_EMULATOR_HOST', /unset FANOUT_TOPIC/],
    [{ SCC_SOURCE_NAME: SOURCE, ADMIN_PRINCIPALS: 'system:admin' }, 'ADMIN_PRINCIPALS', /./],
    [{ SCC_SOURCE_NAME: SOURCE, COMPUTE_EMULATOR_HOST: 'compute.googleapis.com:443' }, 'COMPUTE_EMULATOR_HOST', /loopback/],
    [{ SCC_SOURCE_NAME: SOURCE, COMPUTE_EMULATOR_HOST: '127.0.0.1:5' }, 'SCC_EMULATOR_HOST', /is unset while other emulators are set/],
    [{ SCC_SOURCE_NAME: SOURCE, STORAGE_EMULATOR_HOST: '127.0.0.1:6' }, 'SCC_EMULATOR_HOST', /is unset while other emulators are set/],
    [{ SCC_SOURCE_NAME: SOURCE, EVIDENCE_BUCKET: 'gs://shop-sec-evidence' }, 'EVIDENCE_BUCKET', /bucket name/],
    [{ SCC_SOURCE_NAME: SOURCE, EVIDENCE_BUCKET: 'Shop_Evidence' }, 'EVIDENCE_BUCKET', /bucket name/],
    [{ SCC_SOURCE_NAME: SOURCE, EVIDENCE_BUCKET: 'google-evidence' }, 'EVIDENCE_BUCKET', /bucket name/],
    [{ SCC_SOURCE_NAME: SOURCE, RESPONSE_APPROVERS: 'oncall' }, 'RESPONSE_APPROVERS', /expected an email address or \*@domain, got "oncall"/],
    [{ SCC_SOURCE_NAME: SOURCE, AUTO_RESPONSE: 'capture,nuke' }, 'AUTO_RESPONSE', /unknown action "nuke"; known: capture, block-c2/],
    [{ SCC_SOURCE_NAME: SOURCE, AUTO_RESPONSE: 'capture,capture' }, 'AUTO_RESPONSE', /listed twice/],
    [{ SCC_SOURCE_NAME: SOURCE, AUTO_RESPONSE: 'capture' }, 'TRIAGE_SERVICE_ACCOUNT', /required when AUTO_RESPONSE lists actions/],
    [{ SCC_SOURCE_NAME: SOURCE, TRIAGE_SERVICE_ACCOUNT: 'triage@example.com' }, 'TRIAGE_SERVICE_ACCOUNT', /NAME@PROJECT\.iam\.gserviceaccount\.com/],
    [{ SCC_SOURCE_NAME: SOURCE, AUTO_RESPONSE_MIN_SCORE: 'high' }, 'AUTO_RESPONSE_MIN_SCORE', /whole number/],
    [{ SCC_SOURCE_NAME: SOURCE, AUTO_RESPONSE_MIN_SCORE: '10' }, 'AUTO_RESPONSE_MIN_SCORE', /below VERDICT_MALICIOUS_THRESHOLD \(60\)/],
    [{ SCC_SOURCE_NAME: SOURCE, APPROVAL_LOG_WINDOW_MINUTES: '0' }, 'APPROVAL_LOG_WINDOW_MINUTES', /between 1 and 10080/],
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

  it('reads the response settings: actions in their canonical order, the score defaulting to the malicious threshold', () => {
    const c = parseConfig({ SCC_SOURCE_NAME: SOURCE, AUTO_RESPONSE: ' isolate, capture ', TRIAGE_SERVICE_ACCOUNT: 'Triage-fn@sec-tools-4711.iam.gserviceaccount.com', VERDICT_MALICIOUS_THRESHOLD: '70' });
    expect(c.response).toMatchObject({ autoActions: ['capture', 'isolate'], autoMinScore: 70, triageServiceAccount: 'triage-fn@sec-tools-4711.iam.gserviceaccount.com' });
  });

  it('accepts IPv6 loopback and localhost emulator endpoints', () => {
    const others = { GKE_EMULATOR_HOST: '127.0.0.1:1', LOGGING_EMULATOR_HOST: '127.0.0.1:2', CONTACTS_EMULATOR_HOST: '127.0.0.1:3' };
    expect(parseConfig({ DRY_RUN: 'true', SCC_EMULATOR_HOST: '[::1]:9000', ...others }).sccEmulatorHost).toBe('[::1]:9000');
    expect(parseConfig({ DRY_RUN: 'true', SCC_EMULATOR_HOST: 'localhost:9000', ...others }).sccEmulatorHost).toBe('localhost:9000');
  });

  it('accepts a partial emulation when the gatherers of the missing APIs are disabled', () => {
    const c = parseConfig({ SCC_SOURCE_NAME: SOURCE, SCC_EMULATOR_HOST: '127.0.0.1:1', DISABLED_GATHERERS: 'cluster,node,pod,namespace,podLogs,auditLogs,nodeLogs,nodeK8sLogs,contacts' });
    expect(c.disabledGatherers).toHaveLength(9);
  });

  it('every variable is documented in the README configuration table', () => {
    const readme = readFileSync(join(projectRoot(), 'README.md'), 'utf8');
    for (const v of CONFIG_ENV_VARS) {
      const def = v.default.startsWith('(') ? v.default : `\`${v.default}\``;
      expect(readme).toContain(`| \`${v.name}\` | ${def} | ${v.description} |`);
    }
  });
});
