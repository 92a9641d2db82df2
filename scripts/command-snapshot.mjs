#!/usr/bin/env node
/**
 * The command snapshot (as the Salesforce CLI plugins keep one): every command with its flags,
 * short flags, arguments, whether it speaks --json and which schema its result follows, taken
 * from oclif.manifest.json (written by `npm run build`). A change to the CLI surface then shows
 * in review as a diff of test/fixtures/command-snapshot.json.
 *
 *   node scripts/command-snapshot.mjs           compare; exit 1 and print the difference if any
 *   node scripts/command-snapshot.mjs --write   rewrite the fixture (npm run snapshot:update)
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixture = path.join(root, 'test', 'fixtures', 'command-snapshot.json');

export function snapshot(manifest) {
  return Object.values(manifest.commands)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((c) => {
      const schemaName = c.id.replace(/:/g, '-');
      return {
        command: c.id,
        flags: Object.keys(c.flags).sort(),
        flagChars: Object.values(c.flags).filter((f) => f.char).map((f) => `${f.char}:${f.name}`).sort(),
        args: Object.keys(c.args ?? {}),
        json: Boolean(c.enableJsonFlag),
        schema: c.enableJsonFlag ? (existsSync(path.join(root, 'schemas', `${schemaName}.json`)) ? `${schemaName}.json` : 'result.json') : null,
      };
    });
}

function main() {
  const manifestFile = path.join(root, 'oclif.manifest.json');
  if (!existsSync(manifestFile)) { process.stderr.write('command-snapshot: no oclif.manifest.json (run npm run build first)\n'); process.exit(2); }
  const now = snapshot(JSON.parse(readFileSync(manifestFile, 'utf8')));
  const text = `${JSON.stringify(now, null, 2)}\n`;
  if (process.argv.includes('--write')) {
    mkdirSync(path.dirname(fixture), { recursive: true });
    writeFileSync(fixture, text);
    process.stdout.write(`command-snapshot: wrote ${path.relative(root, fixture)} (${now.length} commands)\n`);
    return;
  }
  const old = existsSync(fixture) ? JSON.parse(readFileSync(fixture, 'utf8')) : [];
  const byId = new Map(old.map((c) => [c.command, c]));
  const lines = [];
  for (const c of now) {
    const o = byId.get(c.command);
    if (!o) { lines.push(`+ command ${c.command}`); continue; }
    byId.delete(c.command);
    for (const key of ['flags', 'flagChars', 'args']) {
      for (const x of c[key]) if (!o[key].includes(x)) lines.push(`+ ${c.command} ${key}: ${x}`);
      for (const x of o[key]) if (!c[key].includes(x)) lines.push(`- ${c.command} ${key}: ${x}`);
    }
    for (const key of ['json', 'schema']) if (o[key] !== c[key]) lines.push(`~ ${c.command} ${key}: ${o[key]} -> ${c[key]}`);
  }
  for (const id of byId.keys()) lines.push(`- command ${id}`);
  if (lines.length) {
    process.stdout.write(`${lines.join('\n')}\ncommand-snapshot: the CLI surface changed; if that is intended, run npm run snapshot:update and commit the fixture\n`);
    process.exit(1);
  }
  process.stdout.write(`command-snapshot: ${now.length} commands match ${path.relative(root, fixture)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
