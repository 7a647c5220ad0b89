/** Plain-text tables for the CLI's human output. */

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const right = headers.map((_, c) => rows.length > 0 && rows.every((r) => typeof r[c] === 'number'));
  const line = (r: string[]) => r.map((x, c) => (right[c] ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n') + '\n';
}

export function shape(dims: (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}

export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** Progress on stderr, at most a few times a second; only when stderr is a terminal, unless forced. A task of
 * stages may name each one: a new stage ends the line of the one before. */
export class Progress {
  private last = 0;
  private shown = false;
  private stage: string | undefined;
  constructor(
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}
  update(done: number, total: number, stage?: string): void {
    if (!this.enabled) return;
    if (stage !== this.stage) {
      this.end();
      this.stage = stage;
      this.shown = false;
      this.last = 0;
    }
    const now = Date.now();
    if (now - this.last < 250 && done < total) return;
    this.last = now;
    this.shown = true;
    process.stderr.write(`\r${this.label}${stage ? ` ${stage}` : ''}: ${done}/${total} (${((100 * done) / Math.max(total, 1)).toFixed(0)}%)`);
  }
  end(): void {
    if (this.shown) process.stderr.write('\n');
  }
}
