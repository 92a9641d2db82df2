import type { Command, Hook, Interfaces } from '@oclif/core';

/**
 * The product bundle's COMMANDS (oclif's "explicit" strategy) hold a stand-in per command that
 * imports the command's own chunk only when it runs: `lbctl list` then parses oclif and `list`,
 * not yaml, ajv, inquirer and the other 38 commands. oclif learns flags and help from
 * oclif.manifest.json, so until a command runs only its `run` is needed.
 *
 * Code that wants the command classes themselves (the shell's guards read their flags; the
 * manifest build) calls loadAllCommands() first, which puts the real classes in place.
 */
type Loader = () => Promise<{ default: Command.Class }>;
interface Stub {
  id: string;
  plugin?: Interfaces.Plugin;
  run(argv: string[], config: Interfaces.Config): Promise<unknown>;
}

let table: Record<string, Command.Class | Stub> = {};
const loaders = new Map<string, Loader>();

async function realClass(id: string, plugin: Interfaces.Plugin | undefined): Promise<Command.Class> {
  const C = (await loaders.get(id)!()).default;
  // What oclif's findCommand sets on the object it finds in COMMANDS (the stand-in, here).
  C.id = id;
  if (plugin) C.plugin = plugin;
  return C;
}

export function lazyCommands(map: Record<string, Loader>): Record<string, Command.Class | Stub> {
  table = {};
  for (const [id, load] of Object.entries(map)) {
    loaders.set(id, load);
    const stub: Stub = {
      id,
      async run(argv, config) { return (await realClass(id, stub.plugin)).run(argv, config); },
    };
    table[id] = stub;
  }
  return table;
}

/** Replace every stand-in in COMMANDS by its command class (in place: oclif keeps the object). */
export async function loadAllCommands(): Promise<void> {
  await Promise.all([...loaders.keys()].map(async (id) => {
    const entry = table[id];
    if (entry && 'prototype' in entry) return; // already the class
    table[id] = await realClass(id, (entry as Stub | undefined)?.plugin);
  }));
}

/** The shell runs many commands and reads their classes: load them all once at its start. */
export const prepareShell: Hook<'init'> = async function (opts) {
  if (opts.id === 'shell') await loadAllCommands();
};
