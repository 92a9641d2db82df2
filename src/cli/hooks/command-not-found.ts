import { Errors, type Hook, type Interfaces } from '@oclif/core';
import { UsageError } from '../errors.js';
import { errorLine } from '../output.js';

/**
 * `lbctl servce add` and `lbctl service ad` answer like every other usage error (one line,
 * exit 2, a JSON error under --json) and name the nearest command, instead of oclif's own
 * "command not found" message or, for a known topic, its help with exit 0.
 */

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The command (space-separated) closest to what was typed, comparing as many words as it has. */
export function nearestCommand(ids: string[], words: string[]): string | undefined {
  let best: { id: string; score: number } | undefined;
  for (const id of ids) {
    const parts = id.split(':');
    const typed = words.slice(0, parts.length).join(' ');
    const score = editDistance(typed, parts.join(' '));
    if (!best || score < best.score) best = { id: parts.join(' '), score };
  }
  return best?.id;
}

function fail(config: Interfaces.Config, words: string[], argv: string[]): never {
  const typed = words.join(' ');
  const near = nearestCommand(config.commandIDs, words);
  const err = new UsageError(`unknown command \`${typed}\``, {
    code: 'ENOCOMMAND',
    hint: `${near ? `did you mean \`${near}\`? ` : ''}see \`${config.bin} --help\``,
  });
  const dash = argv.indexOf('--');
  if ((dash < 0 ? argv : argv.slice(0, dash)).includes('--json')) {
    process.stdout.write(JSON.stringify({ changed: false, msg: err.oneLine(), error: err.toJSON() }, null, 2) + '\n');
  } else {
    process.stderr.write(errorLine(err.oneLine()) + '\n');
  }
  throw new Errors.ExitError(err.exitCode);
}

/** The words the user typed as the command: the id's parts, then leading non-flag arguments. */
function typedWords(id: string, argv: string[]): string[] {
  // `lbctl --json nosuch` gives oclif the id "--json".
  const words = id.startsWith('-') ? [] : id.split(':').filter(Boolean);
  for (const a of argv) {
    if (a.startsWith('-') || words.length >= 3) break;
    words.push(a);
  }
  return words;
}

export const commandNotFound: Hook<'command_not_found'> = async function (opts) {
  const argv = opts.argv ?? [];
  fail(opts.config, typedWords(opts.id, argv), [opts.id, ...argv]);
};

/** A known topic followed by an unknown word (`service ad`): oclif would show the topic's help and exit 0. */
export const init: Hook<'init'> = async function (opts) {
  const { id, argv } = opts;
  if (!id || opts.config.findCommand(id) || !opts.config.findTopic(id)) return;
  const next = argv[0];
  if (next === undefined || next.startsWith('-')) return;
  fail(opts.config, [...id.split(':'), next], argv);
};
