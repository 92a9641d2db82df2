/**
 * Running the lbctl.lbctl collection with Debian's ansible-playbook in tests: a work dir with the
 * collection installed, lbctl on PATH, an environment that keeps Ansible and lbctl inside the
 * work dir, and a playbook runner that prints the PLAY RECAP line.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';

const root = lbctlRoot();

/** A reason to skip when ansible-playbook is missing, else false. */
export const ansibleSkip = existsSync('/usr/bin/ansible-playbook') ? false : 'ansible-playbook is not installed (test/deps.sh)';

export interface Play { exitCode: number; out: string; recap: Record<string, number> }

export interface AnsibleLab {
  work: string;
  env: Record<string, string>;
  /** Write YAML to WORK/NAME.yml and run it on localhost (local connection). */
  playbook(name: string, yaml: string, ...args: string[]): Promise<Play>;
  cleanup(): Promise<void>;
}

/**
 * A work dir under the temp dir, named PREFIX*, with the collection installed:
 * 'tarball' builds and installs it as users get it (ansible-galaxy); 'copy' copies the source
 * tree into the collections path (the kernel lab, where each ansible-galaxy start costs a
 * minute of TCG python), taken once so later edits of the checkout cannot leak into a run.
 */
export async function ansibleLab(prefix: string, install: 'tarball' | 'copy' = 'tarball'): Promise<AnsibleLab> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  const collections = path.join(work, 'collections');
  if (install === 'tarball') {
    const built = await execa('ansible-galaxy', ['collection', 'build', path.join(root, 'ansible', 'lbctl'), '--output-path', path.join(work, 'dist'), '--force']);
    const tarball = path.join(work, 'dist', 'lbctl-lbctl-0.1.0.tar.gz');
    assert.ok(existsSync(tarball), built.stdout);
    await execa('ansible-galaxy', ['collection', 'install', tarball, '-p', collections]);
  } else {
    await fs.cp(path.join(root, 'ansible', 'lbctl'), path.join(collections, 'ansible_collections', 'lbctl', 'lbctl'), { recursive: true });
  }
  const bin = path.join(work, 'bin');
  await fs.mkdir(bin);
  await fs.symlink(path.join(root, 'bin', 'run.js'), path.join(bin, 'lbctl'));
  const env: Record<string, string> = {
    PATH: `${bin}:${process.env.PATH}`, ANSIBLE_COLLECTIONS_PATH: collections, ANSIBLE_NOCOLOR: '1',
    ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_LOCAL_TEMP: path.join(work, 'tmp'), ANSIBLE_REMOTE_TEMP: path.join(work, 'tmp'),
    ANSIBLE_RETRY_FILES_ENABLED: '0', ANSIBLE_GATHERING: 'explicit',
    LBCTL_STATE_DIR: path.join(work, 'state'), LBCTL_LOCK_DIR: path.join(work, 'locks'), HOME: work,
  };
  return {
    work, env,
    async playbook(name, yaml, ...args) {
      const file = path.join(work, `${name}.yml`);
      await fs.writeFile(file, yaml);
      const r = await execa('ansible-playbook', ['-i', 'localhost,', '-c', 'local', file, ...args], { reject: false, env, all: true });
      const out = r.all ?? '';
      const line = out.split('\n').find((l) => /^localhost\s+:\s+ok=/.test(l)) ?? '';
      process.stdout.write(`# ${name} ${args.join(' ')}: ${line.replace(/\s+/g, ' ').trim() || '(no recap)'}\n`);
      const recap: Record<string, number> = {};
      for (const m of line.matchAll(/(\w+)=(\d+)/g)) recap[m[1]] = Number(m[2]);
      return { exitCode: r.exitCode ?? -1, out, recap };
    },
    async cleanup() { await fs.rm(work, { recursive: true, force: true }); },
  };
}

/** A play on localhost without facts, from task lines (each already indented as a list item). */
export const play = (...tasks: string[]) => `- hosts: localhost\n  gather_facts: false\n  tasks:\n${tasks.join('\n')}\n`;
