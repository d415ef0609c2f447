/**
 * The operator CLI. Output contract: results on stdout (JSON), one-line
 * errors on stderr, never a stack trace. Exit codes: 0 done (including a
 * deliberately skipped finding), 2 bad usage or invalid input, 1 anything else.
 */
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_CATEGORY } from '../config.js';
import { InvalidInputError } from '../errors.js';
import { MAX_MESSAGE_BYTES, parseJsonText, unwrapEnvelope } from '../finding/envelope.js';
import { parseNotification } from '../finding/parse.js';
import { decideFilter } from '../filter.js';
import { analyzeFinding, skippedReport } from '../report/analyze.js';
import type { Report } from '../report/types.js';

export const USAGE = `Usage: scc-socat-triage <command> [options]

Commands:
  analyze FILE   Triage one finding offline, from the finding alone; no network call.
                 FILE holds a NotificationMessage, a bare Finding, or a Pub/Sub
                 push / CloudEvent data envelope ({"message": {"data": base64}}).
                 "-" reads standard input. Prints the report JSON.

Options:
  --category NAME  A category to triage (repeatable; default: ${DEFAULT_CATEGORY}).
  -h, --help       This help.

Exit codes:
  0  report printed (status "triaged" or "skipped" with a reason)
  1  unexpected internal error
  2  bad usage or invalid input (one line on stderr says what is wrong)
`;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
}

const defaultIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_MESSAGE_BYTES) throw new InvalidInputError('standard input exceeds 10 MB');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  },
};

class UsageError extends Error {}

async function readInput(path: string, io: Io): Promise<string> {
  if (path === '-') return io.readStdin();
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new InvalidInputError(`cannot read ${JSON.stringify(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!info.isFile()) throw new InvalidInputError(`${JSON.stringify(path)} is not a file`);
  if (info.size > MAX_MESSAGE_BYTES) throw new InvalidInputError(`${JSON.stringify(path)} exceeds 10 MB`);
  return readFile(path, 'utf8');
}

export function analyzeText(text: string, categories: readonly string[]): Report {
  const { notification } = unwrapEnvelope(parseJsonText(text, 'input'));
  const finding = parseNotification(notification);
  // Offline analysis is asked for explicitly: our own loop-guard mark must not hide the report.
  const decision = decideFilter(finding, categories, { loopGuard: false });
  return decision.triage ? analyzeFinding(finding) : skippedReport(finding, decision.reason);
}

async function analyzeCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { category: { type: 'string', multiple: true } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('analyze takes exactly one FILE (or - for standard input)');
  const report = analyzeText(await readInput(positionals[0]!, io), values.category ?? [DEFAULT_CATEGORY]);
  io.stdout(JSON.stringify(report, null, 2) + '\n');
  return 0;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      io.stdout(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === 'analyze') return await analyzeCommand(rest, io);
    throw new UsageError(`unknown command ${JSON.stringify(command.slice(0, 40))}; see --help`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof InvalidInputError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`scc-socat-triage: ${(err as Error).message.split('\n')[0]}\n`);
      return 2;
    }
    io.stderr(`scc-socat-triage: internal error: ${(err as Error).message?.split('\n')[0] ?? String(err)}\n`);
    return 1;
  }
}
