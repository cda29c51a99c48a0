// `npm start`: install what is missing, build the editor if its sources changed, start Sluice and print the URL to open.
import { spawn } from 'node:child_process';
import { bin, bootstrap, buildEditor, ROOT, say } from './lib.mjs';

const pnpm = bootstrap();
buildEditor(pnpm, { ifChanged: true });
say('starting Sluice');
const child = spawn(bin('tsx'), ['server/src/main.ts'], { cwd: ROOT, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
