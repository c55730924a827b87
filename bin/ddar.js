#!/usr/bin/env node
// ddar command-line entry: runs the compiled CLI (npm ci builds dist/ through `prepare`).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`ddar: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
