/**
 * Node built-ins that lbctl's common calls (`list`, `restore`) never touch, loaded on first use
 * instead of at start-up: node compiles each of its own modules when first required, and
 * `node:crypto` is 15 of them, a measurable share of a whole process in the kernel lab, where
 * every compile runs under qemu TCG (docs/DEV.md, start-up). test/unit/startup.test.ts checks
 * that `restore` and `list` load none of it.
 */
import { createRequire } from 'node:module';

const requireBuiltin = createRequire(import.meta.url);
let crypto: typeof import('node:crypto') | undefined;

export function lazyCrypto(): typeof import('node:crypto') {
  return (crypto ??= requireBuiltin('node:crypto') as typeof import('node:crypto'));
}
