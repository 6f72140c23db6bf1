/**
 * A block of status lines redrawn in place on a terminal; on a pipe or file
 * the block is printed at most once per `pipeEveryMs` (and when forced), so
 * logs stay readable.
 */
export class Screen {
  private drawn = 0;
  private lastPrint = -Infinity;

  constructor(private readonly out: NodeJS.WriteStream, private readonly pipeEveryMs = 1000) {}

  /** Whether output goes to a terminal (redraw in place). */
  get isTTY(): boolean {
    return this.out.isTTY === true;
  }

  /** Prints a permanent line above the live block. */
  log(line: string): void {
    this.clearBlock();
    this.out.write(`${line}\n`);
  }

  /** Replaces the live block with `lines` (on a pipe: prints them, throttled unless `force`). */
  draw(lines: string[], force = false): void {
    if (this.isTTY) {
      this.clearBlock();
      this.out.write(lines.map((l) => `\x1b[2K${l}\n`).join(''));
      this.drawn = lines.length;
      return;
    }
    const now = performance.now();
    if (!force && now - this.lastPrint < this.pipeEveryMs) return;
    this.lastPrint = now;
    this.out.write(`${lines.join('\n')}\n`);
  }

  /** Leaves the current block on screen as permanent output. */
  release(): void {
    this.drawn = 0;
  }

  private clearBlock(): void {
    if (this.isTTY && this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }
}
