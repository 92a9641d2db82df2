#!/usr/bin/env node
// Development entry: same as run.js with oclif's debug output (run `npm run build` first).
import { settings } from '@oclif/core';

settings.debug = true;
await import('./run.js');
