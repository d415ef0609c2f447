import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { binaryLocation, decideVerdict, escapeFlags, levelFor, shellIn, type VerdictInput } from '../../lib/decide/verdict.js';
import {
  DEFAULT_VERDICT_SETTINGS,
  isAdminPrincipal,
  isTrustedImage,
  parseVerdictSettings,
  SIGNALS,
  VERDICT_ENV_VARS,
  VerdictSettingsError,
  type VerdictSettingsEnv,
} from '../../lib/decide/verdict-settings.js';
import type { VerdictLevel } from '../../lib/decide/types.js';
import { loadJson, projectRoot } from '../support/fixtures.js';

interface Scenario {
  description: string;
  settings: VerdictSettingsEnv;
  input: VerdictInput;
  expected: { level: VerdictLevel; score: number; signals: string[]; unavailable: string[] };
}

const DIR = 'test/fixtures/scenarios';
const files = readdirSync(join(projectRoot(), DIR))
  .filter((f) => f.endsWith('.json'))
  .sort();
const scenarios = files.map((f) => [f, loadJson<Scenario>(`${DIR}/${f}`)] as const);

const group = (entry: string): string => entry.slice(0, entry.indexOf(':'));

describe('verdict scenarios', () => {
  it('has at least ten scenarios, and together they fire every signal in the table', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(10);
    const fired = new Set(scenarios.flatMap(([, s]) => s.expected.signals));
    expect([...SIGNALS.map((s) => s.id)].filter((id) => !fired.has(id))).toEqual([]);
  });

  it('covers all three levels', () => {
    expect(new Set(scenarios.map(([, s]) => s.expected.level))).toEqual(new Set(['likely_malicious', 'suspicious', 'likely_benign_admin']));
  });

  describe.each(scenarios)('%s', (_file, scenario) => {
    const verdict = decideVerdict(scenario.input, parseVerdictSettings(scenario.settings));

    it(`level ${scenario.expected.level}`, () => {
      expect(verdict.level).toBe(scenario.expected.level);
    });

    it('fires exactly the expected signals', () => {
      expect(verdict.reasons.map((r) => r.signal).sort()).toEqual([...scenario.expected.signals].sort());
    });

    it('scores the sum of its reasons, as calibrated', () => {
      expect(verdict.score).toBe(verdict.reasons.reduce((sum, r) => sum + r.weight, 0));
      expect(verdict.score).toBe(scenario.expected.score);
    });

    it('lists exactly the expected unavailable signal groups, each with a reason', () => {
      expect(verdict.unavailable.map(group).sort()).toEqual([...scenario.expected.unavailable].sort());
      for (const entry of verdict.unavailable) expect(entry.slice(entry.indexOf(':') + 1).trim()).not.toBe('');
    });

    it('explains every reason in words', () => {
      for (const r of verdict.reasons) expect(r.detail.length).toBeGreaterThan(10);
    });
  });
});

function scenario(file: string): Scenario {
  const found = scenarios.find(([f]) => f === file);
  if (!found) throw new Error(`no scenario ${file}`);
  return structuredClone(found[1]);
}

describe('decideVerdict', () => {
  it('uses overridden weights and thresholds', () => {
    const s = scenario('03-unknown-person-public-pty.json');
    const base = decideVerdict(s.input, parseVerdictSettings(s.settings));
    const tuned = decideVerdict(s.input, parseVerdictSettings({ ...s.settings, VERDICT_WEIGHTS: 'public_c2=40,pty_shell=25' }));
    expect(tuned.score).toBe(base.score + 20);
    expect(tuned.reasons.find((r) => r.signal === 'public_c2')?.weight).toBe(40);
    expect(tuned.level).toBe('likely_malicious');
    expect(decideVerdict(s.input, parseVerdictSettings({ ...s.settings, VERDICT_MALICIOUS_THRESHOLD: '51' })).level).toBe('suspicious');
    expect(decideVerdict(s.input, parseVerdictSettings({ ...s.settings, VERDICT_MALICIOUS_THRESHOLD: '50' })).level).toBe('likely_malicious');
  });

  it('names the offline gaps in unavailable', () => {
    const v = decideVerdict(scenario('09-offline-reverse-shell-public.json').input, DEFAULT_VERDICT_SETTINGS);
    expect(v.unavailable).toContain('pod: the pod spec was not gathered (not gathered: offline analysis from the finding alone)');
    expect(v.unavailable).toContain('attribution: audit logs not gathered (not gathered: offline analysis from the finding alone)');
    expect(v.unavailable).toContain('image: no trusted registries configured (TRUSTED_IMAGE_REGISTRIES)');
  });

  it('treats an allow-listed service account as an admin', () => {
    const sa = scenario('13-service-account-shell-public.json');
    const allowed = decideVerdict(sa.input, parseVerdictSettings({ ADMIN_PRINCIPALS: 'deployer@example-prod.iam.gserviceaccount.com' }));
    const signals = allowed.reasons.map((r) => r.signal);
    expect(signals).toContain('exec_by_admin');
    expect(signals).not.toContain('exec_by_service_account');
  });

  it('scales same-container findings per finding and caps them', () => {
    const s = scenario('10-dropped-binary-with-related-findings.json');
    const rf = s.input.relatedFindings!;
    rf.countsByCategory = { 'Added Binary Executed': 7 };
    rf.truncated = true;
    const v = decideVerdict(s.input, DEFAULT_VERDICT_SETTINGS);
    const reason = v.reasons.find((r) => r.signal === 'related_same_container');
    expect(reason?.weight).toBe(30);
    expect(reason?.detail).toContain('at least 7');
  });

  it('finding no related findings counts only when every page was read; otherwise it is unavailable with the reason', () => {
    const s = scenario('01-web-rce-reverse-shell-public.json');
    const rf = s.input.relatedFindings!;
    expect(rf.sameContainer.length + rf.otherPodsSameWorkload.length).toBe(0);
    expect(decideVerdict(s.input, DEFAULT_VERDICT_SETTINGS).unavailable.map(group)).not.toContain('related_findings');
    rf.complete = false;
    s.input.gaps = [{ section: 'relatedFindings', reason: 'only the first 3 page(s) of up to 1000 findings on the cluster were read and more remained' }];
    const v = decideVerdict(s.input, DEFAULT_VERDICT_SETTINGS);
    expect(v.unavailable).toContain(
      'related_findings: none found, but the read was incomplete (only the first 3 page(s) of up to 1000 findings on the cluster were read and more remained): absence not established',
    );
  });

  it('an incomplete read with findings on the container still scores them, and says the other list is unknown', () => {
    const s = scenario('10-dropped-binary-with-related-findings.json');
    s.input.relatedFindings!.complete = false;
    s.input.relatedFindings!.otherPodsSameWorkload = [];
    const v = decideVerdict(s.input, DEFAULT_VERDICT_SETTINGS);
    expect(v.reasons.map((r) => r.signal)).toContain('related_same_container');
    expect(v.unavailable).toContain('related_findings: none found on other pods of the workload, but the read was incomplete: absence not established');
  });

  it('skips destination signals for a bind shell, and says when a connecting destination is unclassified', () => {
    const bind = decideVerdict(scenario('05-bind-shell-privileged-pod.json').input, DEFAULT_VERDICT_SETTINGS);
    expect(bind.unavailable.map(group)).not.toContain('c2_scope');
    const s = scenario('01-web-rce-reverse-shell-public.json');
    s.input.scope = null;
    const v = decideVerdict(s.input, DEFAULT_VERDICT_SETTINGS);
    expect(v.reasons.map((r) => r.signal)).not.toContain('public_c2');
    expect(v.unavailable).toContain('c2_scope: the destination 45.33.32.156:4444 was not classified');
  });

  it('falls back to the lineage for the binary path', () => {
    const s = scenario('10-dropped-binary-with-related-findings.json');
    s.input.process = null;
    expect(decideVerdict(s.input, DEFAULT_VERDICT_SETTINGS).reasons.map((r) => r.signal)).toContain('dropped_binary');
    s.input.lineage = null;
    expect(decideVerdict(s.input, DEFAULT_VERDICT_SETTINGS).unavailable.map(group)).toContain('binary');
  });
});

describe('levelFor', () => {
  it.each([
    [60, 'likely_malicious'],
    [59, 'suspicious'],
    [-19, 'suspicious'],
    [-20, 'likely_benign_admin'],
  ] as const)('%d → %s at the defaults', (score, level) => {
    expect(levelFor(score, DEFAULT_VERDICT_SETTINGS)).toBe(level);
  });
});

describe('signal helpers', () => {
  it.each([
    ['/bin/sh', 'sh'],
    ['bash -li', 'bash'],
    ['/usr/bin/zsh', 'zsh'],
    [`python3 -c 'import pty; pty.spawn("/bin/bash")'`, 'bash'],
    ['busybox sh', 'sh'],
    ['cat /etc/passwd', null],
    ['/usr/bin/ssh host', null],
  ] as const)('shellIn(%j) = %j', (program, shell) => {
    expect(shellIn(program)).toBe(shell);
  });

  it.each([
    ['/usr/bin/socat', 'standard'],
    ['/usr/local/bin/socat', 'standard'],
    ['/tmp/socat', 'scratch'],
    ['/dev/shm/.s', 'scratch'],
    ['/var/tmp/x/socat', 'scratch'],
    ['/usr/bin/../../tmp/socat', 'scratch'],
    ['/memfd:x (deleted)', 'scratch'],
    ['/app/socat', 'unusual'],
    ['socat', 'unusual'],
    ['/usr/binx/socat', 'unusual'],
  ] as const)('binaryLocation(%j) = %s', (binary, where) => {
    expect(binaryLocation(binary)).toBe(where);
  });

  it('keeps only the red flags that reach the node', () => {
    const flags = [
      'privileged container agent',
      'hostNetwork',
      'container app adds capability SYS_ADMIN',
      'container app adds capability NET_BIND_SERVICE',
      'container app runs as root (runAsUser 0)',
      'hostPath /var/run/docker.sock (volume sock)',
      'hostPath /var/log (volume logs)',
      'hostPath / (volume root)',
      'service account token mounted (default)',
    ];
    expect(escapeFlags(flags)).toEqual([
      'privileged container agent',
      'hostNetwork',
      'container app adds capability SYS_ADMIN',
      'hostPath /var/run/docker.sock (volume sock)',
      'hostPath / (volume root)',
    ]);
  });

  it('matches admins exactly or by *@domain, never a subdomain', () => {
    const admins = ['sre@example.com', '*@platform.example.com'];
    expect(isAdminPrincipal('SRE@Example.com', admins)).toBe(true);
    expect(isAdminPrincipal('anyone@platform.example.com', admins)).toBe(true);
    expect(isAdminPrincipal('x@evil.platform.example.com', admins)).toBe(false);
    expect(isAdminPrincipal('sre@example.com.evil', admins)).toBe(false);
    expect(isAdminPrincipal(null, admins)).toBe(false);
  });

  it('trusts images by prefix, and a bare host only as a whole registry', () => {
    expect(isTrustedImage('us-docker.pkg.dev/my-org-prod/app:1', ['us-docker.pkg.dev/my-org-'])).toBe(true);
    expect(isTrustedImage('us-docker.pkg.dev/other/app:1', ['us-docker.pkg.dev/my-org-'])).toBe(false);
    expect(isTrustedImage('gcr.io/x/app', ['gcr.io'])).toBe(true);
    expect(isTrustedImage('gcr.io.evil.example/x/app', ['gcr.io'])).toBe(false);
  });
});

describe('parseVerdictSettings', () => {
  it('defaults to the signal table and documented thresholds', () => {
    const s = parseVerdictSettings({});
    expect(s).toEqual(DEFAULT_VERDICT_SETTINGS);
    for (const signal of SIGNALS) expect(s.weights[signal.id]).toBe(signal.defaultWeight);
    expect(s.benignThreshold).toBeLessThan(s.maliciousThreshold);
  });

  it('documents every signal once, and every variable it reads', () => {
    const ids = SIGNALS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of SIGNALS) {
      expect(s.description).not.toBe('');
      expect(s.rationale).not.toBe('');
    }
    expect(VERDICT_ENV_VARS.map((v) => v.name).sort()).toEqual(
      ['ADMIN_PRINCIPALS', 'TRUSTED_IMAGE_REGISTRIES', 'VERDICT_BENIGN_THRESHOLD', 'VERDICT_MALICIOUS_THRESHOLD', 'VERDICT_WEIGHTS'].sort(),
    );
  });

  it('reads overrides, lists and thresholds', () => {
    const s = parseVerdictSettings({
      VERDICT_WEIGHTS: ' public_c2=40 , pty_shell = -5,',
      ADMIN_PRINCIPALS: 'Alice@Example.com, *@sre.example.com',
      TRUSTED_IMAGE_REGISTRIES: 'us-docker.pkg.dev/my-org-,gcr.io',
      VERDICT_MALICIOUS_THRESHOLD: '70',
      VERDICT_BENIGN_THRESHOLD: '-30',
    });
    expect(s.weights.public_c2).toBe(40);
    expect(s.weights.pty_shell).toBe(-5);
    expect(s.weights.bind_shell).toBe(20);
    expect(s.adminPrincipals).toEqual(['alice@example.com', '*@sre.example.com']);
    expect(s.trustedRegistries).toEqual(['us-docker.pkg.dev/my-org-', 'gcr.io']);
    expect([s.maliciousThreshold, s.benignThreshold]).toEqual([70, -30]);
  });

  it.each([
    [{ VERDICT_WEIGHTS: 'public_c3=40' }, 'VERDICT_WEIGHTS', 'unknown signal'],
    [{ VERDICT_WEIGHTS: 'public_c2=forty' }, 'VERDICT_WEIGHTS', 'whole number'],
    [{ VERDICT_WEIGHTS: 'public_c2=1.5' }, 'VERDICT_WEIGHTS', 'whole number'],
    [{ VERDICT_WEIGHTS: 'public_c2' }, 'VERDICT_WEIGHTS', 'signal=weight'],
    [{ VERDICT_WEIGHTS: 'public_c2=1,public_c2=2' }, 'VERDICT_WEIGHTS', 'twice'],
    [{ VERDICT_WEIGHTS: 'public_c2=5000' }, 'VERDICT_WEIGHTS', 'between'],
    [{ ADMIN_PRINCIPALS: 'alice' }, 'ADMIN_PRINCIPALS', 'email'],
    [{ ADMIN_PRINCIPALS: '*' }, 'ADMIN_PRINCIPALS', 'email'],
    [{ ADMIN_PRINCIPALS: 'a*@example.com' }, 'ADMIN_PRINCIPALS', 'email'],
    [{ ADMIN_PRINCIPALS: '*@*.example.com' }, 'ADMIN_PRINCIPALS', 'email'],
    [{ TRUSTED_IMAGE_REGISTRIES: 'https://gcr.io/x' }, 'TRUSTED_IMAGE_REGISTRIES', 'prefix'],
    [{ TRUSTED_IMAGE_REGISTRIES: 'gcr.io/*' }, 'TRUSTED_IMAGE_REGISTRIES', 'prefix'],
    [{ TRUSTED_IMAGE_REGISTRIES: 'gcr.io/my org' }, 'TRUSTED_IMAGE_REGISTRIES', 'prefix'],
    [{ VERDICT_MALICIOUS_THRESHOLD: 'high' }, 'VERDICT_MALICIOUS_THRESHOLD', 'whole number'],
    [{ VERDICT_MALICIOUS_THRESHOLD: '-30' }, 'VERDICT_MALICIOUS_THRESHOLD', 'below'],
    [{ VERDICT_BENIGN_THRESHOLD: '60' }, 'VERDICT_BENIGN_THRESHOLD', 'below'],
    [{ VERDICT_MALICIOUS_THRESHOLD: '10', VERDICT_BENIGN_THRESHOLD: '10' }, 'VERDICT_MALICIOUS_THRESHOLD', 'below'],
  ] as const)('rejects %j naming %s', (raw, variable, words) => {
    let caught: unknown;
    try {
      parseVerdictSettings(raw);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(VerdictSettingsError);
    expect((caught as VerdictSettingsError).variable).toBe(variable);
    expect((caught as VerdictSettingsError).message).toContain(words);
  });
});
