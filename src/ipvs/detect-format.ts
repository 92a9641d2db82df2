import type { RulesFormat } from './formats.js';
import type { IpvsTable } from './model.js';
import { parseRules } from './rules.js';
import { markValidated } from './validate.js';

/**
 * Which form a rules input is in, by extension, then by content. Apart from formats.ts so that
 * restore can decide before loading the YAML parser.
 */
export function detectFormat(text: string, file?: string): RulesFormat {
  if (file && /\.ya?ml$/i.test(file)) return 'yaml';
  if (file && /\.json$/i.test(file)) return 'json';
  const head = text.trimStart();
  if (head.startsWith('{')) return 'json';
  // The first line only: splitting the whole text would make a string of every line.
  const nl = head.indexOf('\n');
  if (/^(services\s*:|---)/m.test(nl < 0 ? head : head.slice(0, nl))) return 'yaml';
  return 'rules';
}

/**
 * A desired table from rules, YAML or JSON text (formats.ts loadTable), loading the YAML parser
 * only for YAML or JSON: plain rules, what scripts and Ansible pass, skip its 170 KB chunk.
 */
export async function loadTableText(text: string, file: string, format?: RulesFormat): Promise<IpvsTable> {
  const fmt = format ?? detectFormat(text, file);
  // The rules parser validates every line as it reads it: a restore of its fresh table need not do it again.
  return fmt === 'rules' ? markValidated(parseRules(text, file)) : (await import('./formats.js')).loadTable(text, file, fmt);
}
