#!/usr/bin/env node
'use strict';
// Launcher of the offline WeChat Pay partner simulator; the implementation is lib/testing/cli.ts (built to dist/).
const { main } = require('../dist/testing/cli.js');

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`${err && err.message ? err.message : String(err)}\n`);
  process.exit(1);
});
