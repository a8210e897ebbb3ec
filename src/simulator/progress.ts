import cliProgress from 'cli-progress';

export interface Bar {
  increment(by: number): void;
  update(value: number, total?: number): void;
  stop(): void;
}

/** Where long steps report progress: bars on a terminal, a few plain lines otherwise, nothing when quiet. */
export interface Progress {
  bar(title: string, total: number): Bar;
  log(line: string): void;
}

export function terminalProgress(options: { quiet?: boolean } = {}): Progress {
  const interactive = process.stderr.isTTY === true && !options.quiet;
  return {
    log: (line) => {
      if (!options.quiet) process.stdout.write(`${line}\n`);
    },
    bar: (title, total) => {
      if (options.quiet) return silentBar;
      if (interactive) {
        const bar = new cliProgress.SingleBar(
          {
            format: `${title.padEnd(28)} {bar} {percentage}% | {value}/{total} | {duration_formatted}`,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0);
        return {
          increment: (by) => bar.increment(by),
          update: (value, newTotal) => {
            if (newTotal !== undefined) bar.setTotal(newTotal);
            bar.update(value);
          },
          stop: () => bar.stop(),
        };
      }
      // Not a terminal (CI, pipes): a line at each tenth of the way.
      let value = 0;
      let size = total;
      let reported = -1;
      const started = Date.now();
      const report = () => {
        const tenth = size > 0 ? Math.floor((value / size) * 10) : 10;
        if (tenth !== reported) {
          reported = tenth;
          process.stdout.write(
            `${title}: ${value}/${size} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
          );
        }
      };
      return {
        increment: (by) => {
          value += by;
          report();
        },
        update: (v, newTotal) => {
          value = v;
          if (newTotal !== undefined) size = newTotal;
          report();
        },
        stop: () => undefined,
      };
    },
  };
}

const silentBar: Bar = { increment: () => undefined, update: () => undefined, stop: () => undefined };

export const silentProgress: Progress = { bar: () => silentBar, log: () => undefined };
