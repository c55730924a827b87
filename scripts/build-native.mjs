// Builds the native addon (native/, binding.gyp) during `npm ci`. A machine without a C++
// toolchain still installs: ddar then runs on the plain-TypeScript backend and says so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

if (!existsSync('binding.gyp') || process.env.DDAR_SKIP_NATIVE === '1') process.exit(0);
const require = createRequire(import.meta.url);
let gyp;
try {
  gyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
} catch {
  console.warn('ddar: node-gyp not found; the native backend is not built (ts backend only)');
  process.exit(0);
}
// Build against the headers of the running Node when they are installed beside it (e.g.
// /usr/include/node), so no header download is needed; npm's own nodedir setting wins.
const args = [gyp, 'rebuild'];
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
if (r.status !== 0) {
  console.warn('ddar: building the native addon failed; ddar will use the ts backend.');
  console.warn('HINT: install g++, make and python3, then run `npm run build:native`.');
}
