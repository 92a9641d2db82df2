#!/usr/bin/env node
'use strict';
// Development entry: run.js with DEBUG=1, so errors carry their stack (run `npm run build` first).
process.env.DEBUG ??= '1';
require('./run.js');
