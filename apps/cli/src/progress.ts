/** A one-line progress bar on a terminal; nothing otherwise (callers print plain lines instead). */
export class ProgressBar {
  private last = '';
  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {}

  get interactive(): boolean {
    return Boolean(this.out.isTTY);
  }

  update(done: number, total: number, suffix = ''): void {
    if (!this.interactive) return;
    const width = 30;
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${suffix}`;
    if (line === this.last) return;
    this.last = line;
    this.out.write(`\r${line}\x1b[K`);
  }

  /** Print a line above the bar. */
  log(line: string): void {
    if (this.interactive && this.last) this.out.write('\r\x1b[K');
    this.out.write(`${line}\n`);
    if (this.interactive && this.last) this.out.write(this.last);
  }

  done(): void {
    if (this.interactive && this.last) this.out.write('\n');
    this.last = '';
  }
}
