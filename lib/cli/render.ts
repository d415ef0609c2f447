/**
 * The view as text for a person: verdict first, then what socat does, who
 * started it, what else happened there, what could not be learned, and what
 * to run next. The only escape sequences in the output are the SGR colour
 * codes added here, and only when colour is on; every value was cleaned when
 * the view was built.
 */
import type { ShowView } from './view.js';

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  green(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

export const COLOR: Style = { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), yellow: sgr(33, 39), green: sgr(32, 39), cyan: sgr(36, 39) };
const id = (s: string) => s;
export const PLAIN: Style = { bold: id, dim: id, red: id, yellow: id, green: id, cyan: id };

function verdictStyle(level: string, st: Style): (s: string) => string {
  if (level === 'likely_malicious') return (s) => st.bold(st.red(s));
  if (level === 'suspicious') return (s) => st.bold(st.yellow(s));
  if (level === 'likely_benign_admin') return (s) => st.bold(st.green(s));
  return st.bold;
}

const LEVEL_WORDS: Record<string, string> = {
  likely_malicious: 'LIKELY MALICIOUS',
  suspicious: 'SUSPICIOUS',
  likely_benign_admin: 'LIKELY BENIGN (admin session)',
};

export function renderView(view: ShowView, st: Style = PLAIN): string {
  const out: string[] = [];
  const heading = (title: string) => {
    out.push('', st.bold(st.cyan(title)));
  };
  const f = view.finding;
  out.push(st.bold(`${f.category ?? 'Finding'}${f.severity ? ` [${f.severity}]` : ''}`));
  if (f.name) out.push(`  ${f.name}`);
  const meta = [f.eventTime ? `event time ${f.eventTime}` : null, f.state ? `state ${f.state}` : null, f.project ? `project ${f.project}` : null].filter(Boolean);
  if (meta.length) out.push(st.dim(`  ${meta.join(' · ')}`));
  for (const note of view.notes) out.push(st.yellow(`  note: ${note}`));

  if (view.status === 'skipped') {
    out.push('', `${st.bold('Not triaged:')} ${view.skipReason ?? 'skipped'}`);
    return out.join('\n') + '\n';
  }

  heading('Verdict');
  if (view.verdict) {
    const v = view.verdict;
    out.push(`  ${verdictStyle(v.level, st)(LEVEL_WORDS[v.level] ?? v.level.toUpperCase())}${v.score === null ? '' : `  score ${v.score}`}`);
    for (const r of v.reasons) out.push(`  ${r.weight === null ? '•' : st.dim(`${r.weight >= 0 ? '+' : ''}${r.weight}`)} ${r.detail}`);
    for (const u of v.unavailable) out.push(st.dim(`  not evaluated: ${u}`));
  } else if (view.verdictMark) {
    out.push(`  ${st.bold(view.verdictMark)} ${st.dim('(from the socat_triage_verdict mark; no scored verdict in this report)')}`);
  } else {
    out.push(st.dim('  no verdict in this report'));
  }

  heading('C2');
  out.push(`  ${view.what ?? 'unknown'}${view.c2?.scope ? st.dim(` (${view.c2.scope.replace(/_/g, ' ')})`) : ''}`);
  if (view.lineage) out.push(`  started by ${view.lineage}`);
  if (view.process.args) out.push(st.dim(`  argv: ${view.process.args}`));
  const w = view.where;
  const pod = `${w.namespace ?? '?'}/${w.pod ?? '?'}`;
  out.push(`  in pod ${pod}, container ${w.container ?? '?'}${w.image ? ` (${w.image})` : ''}`);
  if (w.cluster || w.node) out.push(`  cluster ${w.cluster ?? '?'}${w.location ? ` (${w.location})` : ''}, node ${w.node ?? '?'}`);
  for (const flag of view.podRedFlags) out.push(`  ${st.yellow('!')} ${flag}`);

  heading('Attribution');
  if (view.attribution) {
    out.push(`  ${view.attribution.summary}`);
    for (const d of view.attribution.details) out.push(st.dim(`    ${d}`));
  } else {
    out.push(st.dim('  not known'));
  }

  if (view.owners.length) {
    heading('Owners');
    for (const o of view.owners) out.push(`  ${o}`);
  }

  heading('Related findings');
  if (view.related) {
    const r = view.related;
    const window = r.windowMinutes === null ? '' : ` (±${r.windowMinutes} min)`;
    if (r.sameContainer.length === 0 && r.otherPodsSameWorkload.length === 0) {
      // "None" is said only of a read that covered every page; otherwise it is unknown, and the gaps say why.
      if (r.complete === true) out.push(`  none on this container or workload${window}`);
      else if (r.complete === false) out.push(st.yellow(`  unavailable: none found${window}, but not every page of the query was read (see gaps)`));
      else out.push(st.dim(`  none found${window}; whether every page was read is not recorded`));
    }
    if (r.sameContainer.length) out.push(`  same container${window}:`, ...r.sameContainer.map((l) => `    ${l}`));
    if (r.otherPodsSameWorkload.length) out.push(`  other pods of the workload${window}:`, ...r.otherPodsSameWorkload.map((l) => `    ${l}`));
    if (r.otherInClusterCount) out.push(st.dim(`  ${r.otherInClusterCount} other finding${r.otherInClusterCount === 1 ? '' : 's'} in the cluster`));
  } else {
    out.push(st.dim('  not gathered'));
  }

  if (view.gaps.length) {
    heading('Gaps');
    for (const g of view.gaps) out.push(`  ${st.yellow('-')} ${g}`);
  }

  // A multi-line command (a here-document) prints its further lines exactly as they are: indenting them
  // would change the document and hide its terminator from the shell when the command is pasted.
  const command = (indent: string, c: string) => c.split('\n').map((line, i) => (i === 0 ? `${indent}${st.dim('$')} ${line}` : line));
  if (view.runbook) {
    // The runbook starts with the same Step 5 commands, so they are not listed twice.
    heading('Runbook');
    view.runbook.forEach((step, i) => {
      out.push(`  ${i + 1}. ${step.title}${step.disruptive ? ` ${st.yellow('[changes the cluster]')}` : ''}`);
      for (const n of step.notes) out.push(st.dim(`     ${n}`));
      for (const c of step.commands) out.push(...command('     ', c));
    });
  } else if (view.commands.length || view.withheldCommands.length) {
    heading('Commands');
    for (const c of view.commands) out.push(`  ${c.label}:`, ...command('    ', c.command));
    for (const label of view.withheldCommands) out.push(st.yellow(`  ${label}: withheld (it contains characters a terminal would interpret, or quoting not every shell reads alike)`));
  }

  if (view.links.length) {
    heading('Links');
    for (const l of view.links) out.push(`  ${l.label}: ${l.url}`);
  }
  return out.join('\n') + '\n';
}
