import { execute, settings } from '@oclif/core';

/**
 * The product's entry, called by bin/run.js from the bundle (dist/lbctl.cjs, through bin/bundle.cjs). `dir` locates
 * package.json. The bundle is plain JavaScript: never let oclif look for TypeScript sources
 * (tsconfig.json in a checkout would otherwise make it try in a development NODE_ENV).
 */
export async function run(argv: string[], dir: string): Promise<unknown> {
  settings.enableAutoTranspile = false;
  return execute({ dir, args: argv });
}
