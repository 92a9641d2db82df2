/**
 * Scratch directories for unit tests that work on real files, removed when the test file ends
 * (test.after runs even when a test failed), and the assertion that a promise fails with an
 * LbctlError, returned for closer checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LbctlError } from '../../src/cli/errors.js';

/** A maker of fresh /tmp/PREFIX* directories, each removed after the calling test file. */
export function scratchDirs(prefix: string): () => Promise<string> {
  const dirs: string[] = [];
  test.after(async () => { for (const d of dirs) await fs.rm(d, { recursive: true, force: true }); });
  return async () => {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

export async function rejectsLbctl(p: Promise<unknown>): Promise<LbctlError> {
  try { await p; } catch (e) { assert.ok(e instanceof LbctlError, `an LbctlError, got ${String(e)}`); return e; }
  assert.fail('expected a rejection');
}
