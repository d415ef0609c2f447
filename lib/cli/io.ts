/**
 * Everything a command touches outside itself: output streams, standard
 * input, the environment and interrupt signals. The bin launcher hands in
 * the real process; the environment is read from here and nowhere else in
 * lib/cli, so a command sees exactly the env it was given.
 */
import { InvalidInputError } from '../errors.js';
import { MAX_MESSAGE_BYTES } from '../finding/envelope.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  env: Env;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** Width of the terminal on stderr; null when it is not one. */
  stderrColumns: number | null;
  /** Calls handler on SIGINT or SIGTERM until the returned function is called. */
  onInterrupt: (handler: (signal: string) => void) => () => void;
}

export function processIo(): Io {
  return {
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
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    stderrColumns: process.stderr.isTTY ? (process.stderr.columns ?? 80) : null,
    onInterrupt(handler) {
      const signals = ['SIGINT', 'SIGTERM'] as const;
      const listeners = signals.map((s) => [s, () => handler(s)] as const);
      for (const [s, l] of listeners) process.on(s, l);
      return () => {
        for (const [s, l] of listeners) process.off(s, l);
      };
    },
  };
}

/**
 * Colour only for a person at a terminal: never when the stream is piped,
 * when NO_COLOR is set to anything non-empty (no-color.org), for TERM=dumb,
 * or with --no-color.
 */
export function colorEnabled(io: Io, stream: 'stdout' | 'stderr', noColorFlag = false): boolean {
  if (noColorFlag) return false;
  if ((io.env.NO_COLOR ?? '') !== '') return false;
  if (io.env.TERM === 'dumb') return false;
  return stream === 'stdout' ? io.stdoutIsTTY : io.stderrIsTTY;
}
