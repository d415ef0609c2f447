/**
 * Words for people: the multi-line summary, the finding description and the
 * next steps, written for an engineer who reads the console at 3 a.m. All
 * attacker-influenced values pass through cleanLine; commands are already
 * shell-quoted and contain no raw control characters.
 */
import { cleanLine } from '../sanitize.js';
import type { C2Endpoint, TriagedReport } from './types.js';

const SHORT = 200;

function v(value: string | null | undefined, max = SHORT): string {
  return value === null || value === undefined ? 'unknown' : cleanLine(value, max);
}

function hostPort(host: string | null, port: number | null, ipVersion: 4 | 6 | null): string {
  if (host === null) return port !== null ? `port ${port}` : 'an unknown endpoint';
  return `${ipVersion === 6 ? `[${cleanLine(host, SHORT)}]` : cleanLine(host, SHORT)}:${port ?? '?'}`;
}

export function describeC2(c2: C2Endpoint): string {
  const where = hostPort(c2.host, c2.port, c2.ipVersion);
  const transport = c2.transport === null ? '' : `${c2.transport} `;
  const program = c2.program === null ? '' : ` running ${cleanLine(c2.program, SHORT)}${c2.pty ? ' with a pty' : ''}`;
  // The pod talks to the proxy, not to the target: name both, the hop first.
  const via = c2.hop ? ` through the proxy ${hostPort(c2.hop.host, c2.hop.port, c2.hop.ipVersion)}` : '';
  const others = (c2.peers ?? []).slice(1).filter((p) => p.host !== null || p.port !== null);
  const also = others.length > 0 ? `; also ${others.map((p) => `${p.direction === 'listen' ? 'listening on' : 'connecting to'} ${hostPort(p.host, p.port, p.ipVersion)}`).join(', ')}` : '';
  switch (c2.role) {
    case 'reverse':
      return `reverse shell connecting out to ${transport}${where}${via}${program}${also}`;
    case 'bind':
      return `bind shell listening on ${transport}${where}${program}${also}`;
    case 'relay':
      if (c2.socket) return `relay between ${transport}${where}${via} and the UNIX socket ${cleanLine(c2.socket, SHORT)}${also}`;
      return `relay forwarding traffic to ${transport}${where}${via}${also}`;
    default:
      if (c2.refused) return `socat arguments socat itself refuses at start-up (${cleanLine(c2.refused, SHORT)}): no connection was made by this command`;
      return c2.host !== null || c2.port !== null ? `socat talking to ${transport}${where}${via}` : 'socat with no network endpoint recognised in its arguments';
  }
}

const LEVEL = { likely_malicious: 'LIKELY MALICIOUS', suspicious: 'SUSPICIOUS', likely_benign_admin: 'LIKELY BENIGN ADMIN ACTIVITY' } as const;

export function verdictLine(r: TriagedReport): string {
  const top = r.verdict.reasons.filter((x) => x.weight !== 0).sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight)).slice(0, 3);
  return `${LEVEL[r.verdict.level]} (score ${r.verdict.score}${top.length ? `: ${top.map((x) => `${x.signal} ${x.weight > 0 ? '+' : ''}${x.weight}`).join(', ')}` : ''})`;
}

export function summaryLines(r: TriagedReport): string[] {
  const w = r.workload;
  const c = r.cluster;
  const lines = [
    `Verdict: ${verdictLine(r)}.`,
    `What: ${describeC2(r.c2)}${r.c2.scope ? ` (${r.c2.scope.replace('_', ' ')} address)` : ''}.`,
    `Who: ${cleanLine(r.attribution.explanation, 300)}`,
    `Where: pod ${v(w.namespace)}/${v(w.pod)}, container ${v(w.container)}, image ${v(w.image, 300)}, node ${v(w.node)}.`,
    c === null
      ? `Cluster: unknown (resource ${v(r.finding.resourceName, 300)}).`
      : `Cluster: ${v(c.name)} in ${v(c.location)} (${c.locationType}), project ${v(r.finding.projectDisplayName ?? c.project)}.`,
    `Process: ${r.process.args.length ? cleanLine(r.process.args.join(' '), 600) : '(no arguments)'} (binary ${v(r.process.binary, 300)})${r.process.argsTruncated ? ' [arguments truncated by SCC]' : ''}`,
  ];
  const steps = nextSteps(r);
  if (steps.length > 0) lines.push('Next:', ...steps.map((s, i) => `  ${i + 1}. ${s}`));
  return lines;
}

/**
 * The first three actions. Malicious: preserve evidence, then cut the C2
 * path; benign: confirm with the person, then inspect. The runbook keeps
 * every step; these are the ones to do first.
 */
export function nextSteps(r: TriagedReport): string[] {
  const order =
    r.verdict.level === 'likely_benign_admin'
      ? ['get_credentials', 'exec', 'copy_binary']
      : ['get_credentials', 'copy_binary', 'block_c2_egress', 'block_all_egress', 'exec'];
  const steps = order
    .map((id) => ({ step: r.runbook.steps.find((s) => s.id === id), index: r.runbook.steps.findIndex((s) => s.id === id) }))
    .filter((x): x is { step: NonNullable<typeof x.step>; index: number } => x.step !== undefined && x.step.command !== null)
    .slice(0, 3)
    .map(({ step, index }) => {
      // A multi-line command (a heredoc) does not fit a list line: point at the property that holds it.
      const command = step.command!.includes('\n') ? `see source property F${String(index + 1).padStart(2, '0')}_${step.id}` : step.command;
      return `${step.title}: ${command}${step.warning ? ` (warning: ${step.warning})` : ''}`;
    });
  if (r.verdict.level === 'likely_benign_admin' && r.attribution.exec?.principal) {
    steps.unshift(`Confirm with ${cleanLine(r.attribution.exec.principal, 200)} that this session was theirs.`);
  }
  return steps.slice(0, 3);
}

export function description(r: TriagedReport): string {
  const w = r.workload;
  return `${verdictLine(r)}. ${describeC2(r.c2)[0]!.toUpperCase()}${describeC2(r.c2).slice(1)}, in pod ${v(w.namespace)}/${v(w.pod)} (container ${v(w.container)}) on cluster ${v(r.cluster?.name)}. ${cleanLine(r.attribution.explanation, 300)} Source properties A–K hold the reasons, the runbook and the evidence.`;
}
