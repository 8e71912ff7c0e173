// Runs before `npm run demo` and `npm test` (package.json), under whatever `node` the
// machine has: the entry points are TypeScript run by Node 24's type stripping, and an older
// Node dies on them with ERR_UNKNOWN_FILE_EXTENSION ".ts". Written in plain old JavaScript so
// that any Node old enough to need this message can still print it.
/* global process */
'use strict';
var wanted = 24;
var major = Number(process.versions.node.split('.')[0]);
if (major !== wanted) {
  process.stderr.write(
    'mapi-operator needs Node ' + wanted + ' (this is Node ' + process.versions.node + '): install it with `nvm install ' + wanted + '` or from https://nodejs.org, ' +
    'or put this repository\'s copy first on PATH: export PATH="$(bash tools/node24.sh):$PATH"\n'
  );
  process.exit(1);
}
