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

export function describeC2(c2: C2Endpoint): string {
  const where = c2.host !== null ? `${c2.ipVersion === 6 ? `[${cleanLine(c2.host, SHORT)}]` : cleanLine(c2.host, SHORT)}:${c2.port ?? '?'}` : c2.port !== null ? `port ${c2.port}` : 'an unknown endpoint';
  const transport = c2.transport === null ? '' : `${c2.transport} `;
  const program = c2.program === null ? '' : ` running ${cleanLine(c2.program, SHORT)}${c2.pty ? ' with a pty' : ''}`;
  switch (c2.role) {
    case 'reverse':
      return `reverse shell connecting out to ${transport}${where}${program}`;
    case 'bind':
      return `bind shell listening on ${transport}${where}${program}`;
    case 'relay':
      return `relay forwarding traffic to ${transport}${where}`;
    default:
      return c2.host !== null || c2.port !== null ? `socat talking to ${transport}${where}` : 'socat with no network endpoint recognised in its arguments';
  }
}

export function summaryLines(r: TriagedReport): string[] {
  const w = r.workload;
  const c = r.cluster;
  const lines = [
    `What: ${describeC2(r.c2)}.`,
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

export function nextSteps(r: TriagedReport): string[] {
  const steps: string[] = [];
  if (r.commands.getCredentials) steps.push(`Get cluster credentials: ${r.commands.getCredentials}`);
  if (r.commands.copyBinary) steps.push(`Preserve the executed binary: ${r.commands.copyBinary}`);
  if (r.commands.exec) steps.push(`Inspect the container: ${r.commands.exec}`);
  return steps;
}

export function description(r: TriagedReport): string {
  const w = r.workload;
  return `Automated triage of ${v(r.finding.category)}: ${describeC2(r.c2)}, in pod ${v(w.namespace)}/${v(w.pod)} (container ${v(w.container)}) on cluster ${v(r.cluster?.name)}. See the source properties for the full report and the commands to run next.`;
}
