/**
 * The JSON contract check shared by the unit contract test and the host suite: every command's
 * --json document validates against its schema in schemas/ (error.json when it failed), carries
 * `changed` and a one-line `msg`.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { lbctlRoot, runLbctl, type InProcessResult } from '../../src/cli/inprocess.js';

const root = lbctlRoot();
export const schemaDir = path.join(root, 'schemas');
export const ajv = new Ajv2020({ allErrors: true, strict: false });
for (const f of readdirSync(schemaDir).filter((n) => n.endsWith('.json'))) ajv.addSchema(JSON.parse(readFileSync(path.join(schemaDir, f), 'utf8')), f);
export const manifest = JSON.parse(readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8')) as { commands: Record<string, { id: string; enableJsonFlag?: boolean; flags: Record<string, unknown> }> };

/** Every command that speaks --json. */
export const jsonCommands = (): string[] => Object.values(manifest.commands).filter((c) => c.enableJsonFlag).map((c) => c.id);

/**
 * Commands whose results only the host suite can produce (root, network namespaces):
 * test/host/contract-host.test.ts validates each of them and fails when it misses one; the unit
 * contract test counts them as covered.
 */
export const CHECKED_IN_HOST_SUITE = ['realserver:prep', 'realserver:check', 'realserver:unprep', 'director:prep', 'director:check', 'director:unprep', 'plan'];

/** The schema file of a command's result: its own, else the contract fields alone. */
export function schemaOf(id: string): string {
  const own = `${id.replace(/:/g, '-')}.json`;
  return existsSync(path.join(schemaDir, own)) ? own : 'result.json';
}

/** Ids (and "id (error)") of the documents validated in this process. */
export const validated = new Set<string>();

/** Assert `r` printed one JSON document valid for `id` (or error.json when it failed); returns it. */
export function assertContract(id: string, r: InProcessResult): any {
  assert.ok(r.json, `${id}: stdout is not one JSON document: ${r.stdout.slice(0, 300)} ${r.stderr}`);
  // Exit 10 (--exit-code, changes pending) and 9 (a check found problems) still print the result.
  const name = r.exitCode === 0 || ([9, 10].includes(r.exitCode) && !r.json.error) ? schemaOf(id) : 'error.json';
  const validate = ajv.getSchema(name)!;
  assert.ok(validate(r.json), `${id} (exit ${r.exitCode}) against ${name}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(r.json).slice(0, 400)}`);
  assert.equal(typeof r.json.changed, 'boolean');
  assert.match(r.json.msg, /^[^\n]+$/);
  assert.doesNotMatch(r.json.msg, /\x1b\[/, 'msg has colour codes');
  validated.add(`${id}${name === 'error.json' ? ' (error)' : ''}`);
  return r.json;
}

/** The command id an argv starts with (longest match). */
export function idOf(argv: string[]): string {
  for (let n = 3; n >= 1; n--) { const id = argv.slice(0, n).join(':'); if (manifest.commands[id]) return id; }
  throw new Error(`no command for ${argv.join(' ')}`);
}

/** Run lbctl ARGV --json in this process and check the document against the contract. */
export async function runContract(argv: string[], opts: { stdin?: string } = {}): Promise<InProcessResult> {
  const r = await runLbctl([...argv, '--json'], opts);
  assertContract(idOf(argv), r);
  return r;
}
