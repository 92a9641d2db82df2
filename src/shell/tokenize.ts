import { UsageError } from '../cli/errors.js';

/**
 * Split one shell line into argv the way a POSIX shell would for plain words, without any
 * expansion: "double" and 'single' quotes group, a backslash escapes the next character
 * (inside double quotes only \" and \\), and a # at the start of a word begins a comment.
 * No $VAR, globs, pipes or redirections: what is typed is what the command gets.
 */
export function tokenize(line: string): string[] {
  const r = scan(line);
  if (r.openQuote) throw new UsageError(`unterminated ${r.openQuote === '"' ? 'double' : 'single'} quote`, { code: 'EQUOTE', where: `column ${r.quoteAt + 1}`, hint: 'close the quote' });
  return r.tokens;
}

export interface PartialLine {
  /** Complete words before the one being typed. */
  words: string[];
  /** The word under the cursor as typed ('' after a space), and its unquoted text. */
  raw: string;
  text: string;
  /** The word under the cursor is quoted or escaped: leave it alone. */
  quoted: boolean;
}

/** For Tab completion: the line up to the cursor, split into finished words and the current one. */
export function splitForCompletion(line: string): PartialLine {
  const r = scan(line);
  const endsInSpace = !r.openQuote && !r.inWord;
  if (endsInSpace) return { words: r.tokens, raw: '', text: '', quoted: false };
  const text = r.openQuote ? r.current : r.tokens[r.tokens.length - 1] ?? '';
  const words = r.openQuote ? r.tokens : r.tokens.slice(0, -1);
  const raw = line.slice(r.wordStart);
  return { words, raw, text, quoted: raw !== text };
}

interface Scan { tokens: string[]; openQuote: '' | '"' | "'"; quoteAt: number; inWord: boolean; current: string; wordStart: number }

function scan(line: string): Scan {
  const tokens: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '' | '"' | "'" = '';
  let quoteAt = 0;
  let wordStart = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = ''; else cur += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = '';
      else if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i];
      else cur += c;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) { tokens.push(cur); cur = ''; inWord = false; }
      continue;
    }
    if (!inWord) {
      if (c === '#') break;
      inWord = true;
      wordStart = i;
    }
    if (c === "'" || c === '"') { quote = c; quoteAt = i; continue; }
    if (c === '\\' && i + 1 < line.length) { cur += line[++i]; continue; }
    cur += c;
  }
  if (inWord && !quote) tokens.push(cur);
  return { tokens, openQuote: quote, quoteAt, inWord, current: cur, wordStart };
}
