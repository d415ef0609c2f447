/**
 * Progress of a backfill on stderr: a redrawn bar (done/total, rate, ETA) on
 * a terminal, one plain line per finished finding when stderr is a pipe or a
 * file, so logs of an unattended run stay readable. stdout is left to the
 * result.
 */
import { cleanLine } from '../sanitize.js';
import type { Io } from './io.js';
import { COLOR, PLAIN, type Style } from './render.js';

export interface ProgressOptions {
  tty: boolean;
  color: boolean;
  columns: number;
  now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  private total = 0;
  private done = 0;
  private failed = 0;
  private startedAt = 0;
  private barShown = false;
  /** A line without its newline is on the terminal (listing count or bar). */
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly style: Style;
  private readonly now: () => number;

  constructor(
    private readonly io: Io,
    private readonly options: ProgressOptions,
  ) {
    this.style = options.color ? COLOR : PLAIN;
    this.now = options.now ?? Date.now;
  }

  private rate(): number {
    const elapsed = (this.now() - this.startedAt) / 1000;
    return elapsed > 0 ? this.done / elapsed : 0;
  }

  private stats(): string {
    const rate = this.rate();
    const eta = rate > 0 ? formatDuration((this.total - this.done) / rate) : '--';
    return `${rate.toFixed(1)}/s · ETA ${eta}`;
  }

  /** A line that must stay visible: printed above the bar on a terminal. */
  log(text: string): void {
    const line = cleanLine(text, 1000);
    if (this.options.tty) {
      this.io.stderr(`\r\u001b[K${line}\n`);
      this.dirty = false;
      if (this.barShown) this.draw();
    } else {
      this.io.stderr(`${line}\n`);
    }
  }

  listing(seen: number): void {
    if (!this.options.tty) return;
    this.io.stderr(`\r\u001b[Kbackfill: listing findings… ${seen}`);
    this.dirty = true;
  }

  start(total: number): void {
    this.total = total;
    this.startedAt = this.now();
    if (this.options.tty && total > 0) {
      this.barShown = true;
      this.draw();
      // Rate and ETA move while a slow finding is in flight.
      this.timer = setInterval(() => this.draw(), 1000);
      this.timer.unref();
    } else if (this.options.tty && this.dirty) {
      this.io.stderr('\r\u001b[K');
      this.dirty = false;
    }
  }

  finished(outcome: string, name: string, reason: string | null): void {
    this.done += 1;
    if (outcome === 'failed') this.failed += 1;
    const what = `${outcome} ${name}${outcome === 'failed' && reason ? `: ${reason}` : ''}`;
    if (this.options.tty) {
      if (outcome === 'failed') this.log(`backfill: ${this.style.red('failed')} ${name}: ${reason ?? ''}`);
      else this.draw();
    } else {
      this.io.stderr(`${cleanLine(`backfill: [${this.done}/${this.total}] ${what} (${this.stats()})`, 1200)}\n`);
    }
  }

  private draw(): void {
    const pct = this.total === 0 ? 100 : Math.floor((this.done / this.total) * 100);
    const tail = ` ${this.done}/${this.total} ${String(pct).padStart(3)}% · ${this.stats()}${this.failed ? ` · ${this.failed} failed` : ''}`;
    const width = Math.max(10, Math.min(40, this.options.columns - tail.length - 12));
    const filled = this.total === 0 ? width : Math.round((this.done / this.total) * width);
    const bar = `${this.style.green('█'.repeat(filled))}${this.style.dim('░'.repeat(width - filled))}`;
    this.io.stderr(`\r\u001b[Kbackfill ${bar}${tail}`);
    this.dirty = true;
  }

  end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.options.tty && this.barShown) {
      this.draw();
      this.io.stderr('\n');
    } else if (this.options.tty && this.dirty) {
      this.io.stderr('\r\u001b[K');
    }
    this.barShown = false;
    this.dirty = false;
  }
}
