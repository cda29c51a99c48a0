// `npm start`: install what is missing, build the editor and the server if their sources changed, start Sluice
// and print the URL to open.
import { spawn } from 'node:child_process';
import { bootstrap, buildEditor, buildServerIfChanged, ROOT, say } from './lib.mjs';

const pnpm = bootstrap();
buildEditor(pnpm, { ifChanged: true });
await buildServerIfChanged();
say('starting Sluice');
// the built server, through the command that sets its runtime options (server/bin/sluice)
const child = spawn('server/bin/sluice', ['serve'], { cwd: ROOT, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
