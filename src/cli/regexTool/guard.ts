/**
 * A per-line time budget for regex matching. A JavaScript regex cannot be interrupted from inside,
 * but V8 terminates a `vm` script at its timeout even inside a regex: lines are processed in
 * batches inside one `vm` call (one call per batch keeps the cost per line in nanoseconds); a
 * batch yields once it has used `budgetMs`, and a line still running at twice the budget is cut
 * off, reported and skipped, and the batch goes on with the next line.
 */
import * as vm from 'node:vm';

export interface SkippedLine {
  readonly item: string;
  readonly reason: string;
}

export class LineGuard {
  private readonly context = vm.createContext({ run: (): void => undefined });
  private readonly script = new vm.Script('run()');

  constructor(private readonly budgetMs: number) {}

  /**
   * Calls `fn` for each item; an item that exceeds the budget (or throws) is passed to `onSkip`
   * instead. Returns how many were skipped.
   */
  runBatch(items: readonly string[], fn: (item: string) => void, onSkip: (s: SkippedLine) => void): number {
    let i = 0;
    let skipped = 0;
    const budget = this.budgetMs;
    const ctx = this.context as { run: () => void };
    while (i < items.length) {
      const state = { i };
      ctx.run = (): void => {
        const start = performance.now();
        for (; state.i < items.length; state.i++) {
          if (performance.now() - start > budget) return;
          fn(items[state.i] as string);
        }
      };
      try {
        this.script.runInContext(this.context, { timeout: budget * 2 });
        i = state.i;
      } catch (e) {
        const timeout = (e as { code?: string } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
        const reason = timeout ? `regex time budget of ${budget} ms exceeded` : e instanceof Error ? e.message : String(e);
        onSkip({ item: items[state.i] ?? '', reason });
        skipped++;
        i = state.i + 1;
      }
    }
    return skipped;
  }
}
