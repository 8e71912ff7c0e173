// `npm prepare`: builds dist/ when TypeScript is installed (`npm ci` in a checkout), and does
// nothing under `npm ci --omit=dev`, which has no compiler and only wants node_modules (the
// image's production stage; dist/ comes from the build stage).
/* global process, require */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: runs under any Node */
'use strict';
var spawnSync = require('node:child_process').spawnSync;
try {
  require.resolve('typescript/package.json', { paths: [process.cwd()] });
} catch (notInstalled) { // eslint-disable-line @typescript-eslint/no-unused-vars
  process.stdout.write('prepare: TypeScript is not installed (production install), dist/ not built\n');
  process.exit(0);
}
var npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
var r = spawnSync(npm, ['run', 'build'], { stdio: 'inherit' });
process.exit(r.status === null ? 1 : r.status);
