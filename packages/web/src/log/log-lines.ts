/**
 * A growing log split into lines. Chunks arrive with arbitrary cuts (a page may end in the middle
 * of a line), so the last line stays open until a newline closes it. Mutable on purpose: a 100,000
 * line log is appended to many times, and copying it each time would be quadratic; `version`
 * grows with every change so views know when to re-render.
 */
export class LogLines {
  private readonly lines: string[] = [''];
  /** Grows by one with every append that changed something. */
  version = 0;

  /** Adds a chunk of text; `\r\n` and lone `\r` line ends count as `\n`. */
  append(chunk: string): void {
    if (!chunk) return;
    const parts = chunk.replace(/\r\n?/g, '\n').split('\n');
    const lastIndex = this.lines.length - 1;
    this.lines[lastIndex] += parts[0] ?? '';
    for (let i = 1; i < parts.length; i++) this.lines.push(parts[i] ?? '');
    this.version++;
  }

  /**
   * Index of the open last line: the only line a later append can change. Every line before it
   * is final.
   */
  get openLine(): number {
    return this.lines.length - 1;
  }

  /** Lines to show: an empty open line after the final newline is not counted. */
  get count(): number {
    const n = this.lines.length;
    return n > 0 && this.lines[n - 1] === '' ? n - 1 : n;
  }

  /** Characters held, for the "size" figure. */
  get length(): number {
    let total = 0;
    for (const line of this.lines) total += line.length + 1;
    return Math.max(0, total - 1);
  }

  /** The line at `index` (0-based); '' past the end. */
  line(index: number): string {
    return this.lines[index] ?? '';
  }

  clear(): void {
    this.lines.length = 0;
    this.lines.push('');
    this.version++;
  }
}
