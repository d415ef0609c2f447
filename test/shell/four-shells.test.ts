/**
 * The commands are for bash, zsh, dash and busybox sh alike (README,
 * "Commands and runbook"). The hostile corpus runs through every shell in
 * test/hostile/injection.test.ts; these are the cases issue 13 names, run the
 * way an engineer would lose them: the runbook's commands, the Step 5
 * commands and what the CLI prints, pasted into each shell (-c and
 * interactive) against recording stand-ins for kubectl and gcloud.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNotification } from '../../lib/finding/parse.js';
import type { SocatFinding } from '../../lib/finding/types.js';
import type { PodSection } from '../../lib/gather/sections.js';
import { analyzeFinding, OFFLINE } from '../../lib/report/analyze.js';
import type { TriagedReport } from '../../lib/report/types.js';
import { baseEnv, runCli } from '../cli/support.js';
import { intendedInvocation } from '../hostile/intended-argv.js';
import { recordFigures } from '../hostile/support.js';
import { notificationFixture } from '../support/fixtures.js';
import { printedCommands } from '../support/printed-commands.js';
import { missingShells, runEverywhere, runWithStandIns, SHELLS, type Scripted } from '../support/recording-shell.js';

const dir = mkdtempSync(join(tmpdir(), 'four-shells-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const figures = { fourShellsShells: SHELLS.length, fourShellsCommands: 0, fourShellsChecks: 0, fourShellsRuns: 0 };

/** The binary path, with the canary in place of a bare `touch X`. */
const ZWSP_BINARY = "/tmp/.x\u200B';touch $CANARY_DIR/X;#/socat";

function notification(edit: (n: Record<string, any>) => void): Record<string, any> {
  const n = structuredClone(notificationFixture('socat-v2'));
  edit(n);
  return n;
}

function podFor(f: SocatFinding, name: string): PodSection {
  return {
    source: 'kubernetes',
    namespace: f.workload.namespace!,
    name: f.workload.pod!,
    phase: 'Running',
    startTime: null,
    labels: { app: name, 'pod-template-hash': '7d9fb6c5d4' },
    annotations: {},
    serviceAccount: 'default',
    node: f.workload.node,
    containers: [{ name: f.workload.container ?? 'checkout', image: 'x', imageDigest: null, restartCount: 0, ready: true }],
    redFlags: [],
    owners: [
      { kind: 'ReplicaSet', name: `${name}-7d9fb6c5d4`, labels: {} },
      { kind: 'Deployment', name, labels: {} },
    ],
    consoleUrl: null,
  };
}

function analyzed(n: Record<string, any>, withPod: string | null): { finding: SocatFinding; pod: PodSection | null; report: TriagedReport } {
  const finding = parseNotification(n);
  const pod = withPod === null ? null : podFor(finding, withPod);
  const report = analyzeFinding(finding, pod === null ? OFFLINE : { sections: { pod }, gaps: [] });
  return { finding, pod, report };
}

/** Every command of the report (runbook steps and the Step 5 commands), with what it must run. */
function scripted(label: string, { finding, pod, report }: ReturnType<typeof analyzed>): Scripted[] {
  const steps = report.runbook.steps.flatMap((s) => (s.command === null ? [] : [{ command: s.command, expected: intendedInvocation(s.id, finding, pod), label: `${label} ${s.id}` }]));
  const step5: Array<[string, string | null]> = [
    ['get_credentials', report.commands.getCredentials],
    ['copy_binary', report.commands.copyBinary],
    ['exec', report.commands.exec],
  ];
  return [...steps, ...step5.flatMap(([id, c]) => (c === null ? [] : [{ command: c, expected: intendedInvocation(id, finding, pod), label: `${label} Step 5 ${id}` }]))];
}

async function expectExactEverywhere(all: Scripted[]): Promise<void> {
  const r = await runEverywhere(all);
  figures.fourShellsCommands += all.length;
  figures.fourShellsChecks += r.checks;
  figures.fourShellsRuns += r.runs;
  expect([...r.missing, ...r.problems]).toEqual([]);
  expect(r.checks).toBe(all.length * SHELLS.length);
}

describe('every shell the commands are for is here', () => {
  it('bash, zsh, dash and busybox sh are installed (.ci/run installs them); a missing one fails rather than passing unchecked', () => {
    expect(missingShells()).toEqual([]);
  });
});

describe("issue 13's binary path: /tmp/.x<U+200B>';touch X;#/socat", () => {
  const attack = analyzed(
    notification((n) => {
      n.finding.processes[1].binary.path = ZWSP_BINARY;
    }),
    'checkout',
  );

  it('copy_binary is null with a note saying why, in the runbook and in Step 5', () => {
    const step = attack.report.runbook.steps.find((s) => s.id === 'copy_binary')!;
    expect(step.command).toBeNull();
    expect(step.note).toMatch(/control or invisible characters, which no command can show exactly in every shell/);
    expect(attack.report.commands.copyBinary).toBeNull();
  });

  it('every other command gives kubectl and gcloud exactly the intended argv in every shell, and nothing else runs', async () => {
    const all = scripted('zwsp', attack);
    expect(all.map((s) => s.expected.argv[0])).toEqual(expect.arrayContaining(['container', 'exec', 'debug', 'apply', 'cordon', 'delete', 'scale']));
    await expectExactEverywhere(all);
  });

  it("the form with bash's $'…' it replaces runs touch under dash (what the check above would catch)", async () => {
    const old = "kubectl cp $'shop/checkout-7d9fb6c5d4-x2lqp:/tmp/.x\\xe2\\x80\\x8b\\';touch $CANARY_DIR/X;#/socat' -c checkout ./socat-evidence-socat";
    const dash = SHELLS.find((s) => s.program === 'dash')!;
    const r = await runWithStandIns(old, { shell: dash });
    expect(r.canaryFiles).toEqual(['X']);
  });

  it('the same path without the invisible character is copied exactly in every shell', async () => {
    const visible = analyzed(
      notification((n) => {
        n.finding.processes[1].binary.path = "/tmp/.x';touch $CANARY_DIR/X;#/socat";
      }),
      'checkout',
    );
    expect(visible.report.commands.copyBinary).not.toBeNull();
    await expectExactEverywhere(scripted('visible', visible));
  });
});

describe('names zsh would replace: =kubectl (EQUALS, and MAGIC_EQUAL_SUBST after = and :)', () => {
  const named = (value: string) =>
    analyzed(
      notification((n) => {
        n.finding.sourceProperties = { ...n.finding.sourceProperties, Pod_Namespace: value, Pod_Name: value, Container_Name: value, VM_Instance_Name: value };
        n.finding.kubernetes.pods[0].ns = value;
        n.finding.kubernetes.pods[0].name = value;
      }),
      value,
    );

  it.each(['=kubectl', '=gcloud', 'a:=kubectl', '=kubectl:=gcloud'])('pod, namespace, container, node and owner named %s: every command exact in every shell', async (value) => {
    const c = named(value);
    const all = scripted(value, c);
    // Every step is built, but copy_binary where a ':' in the pod name would split kubectl cp's POD:PATH.
    expect(c.report.runbook.steps.filter((s) => s.command === null).map((s) => s.id)).toEqual(value.includes(':') ? ['copy_binary'] : []);
    await expectExactEverywhere(all);
  });
});

describe('what the CLI prints', () => {
  it('show FILE (offline): the printed commands, pasted into every shell, run exactly as intended', async () => {
    const n = notification((x) => {
      x.finding.sourceProperties = { ...x.finding.sourceProperties, Pod_Namespace: '=kubectl', Pod_Name: "it's=kubectl", Container_Name: '=kubectl' };
      x.finding.kubernetes.pods[0].ns = '=kubectl';
      x.finding.kubernetes.pods[0].name = "it's=kubectl";
      x.finding.processes[1].binary.path = "/tmp/.x';touch $CANARY_DIR/X;#/socat";
    });
    const file = join(dir, 'finding.json');
    writeFileSync(file, JSON.stringify(n));
    const r = await runCli(['show', file, '--no-color'], { env: baseEnv() });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const printed = printedCommands(r.stdout);
    const { finding, report } = analyzed(n, null);
    const steps = report.runbook.steps.filter((s) => s.command !== null);
    expect(printed).toEqual(steps.map((s) => s.command));
    expect(steps.map((s) => s.id)).toEqual(expect.arrayContaining(['get_credentials', 'copy_binary', 'exec', 'debug', 'delete_pod']));
    await expectExactEverywhere(steps.map((s, i) => ({ command: printed[i]!, expected: intendedInvocation(s.id, finding, null), label: `show ${s.id}` })));
  }, 30_000);

  afterAll(() => recordFigures('four-shells', figures));
});
