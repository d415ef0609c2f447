/**
 * Runs the SCC emulator on its own, for the demo, benchmarks or poking at it
 * by hand:  node dist/test/emulators/serve-scc.js [PORT]
 * Prints SCC_EMULATOR_HOST=127.0.0.1:PORT and runs until SIGINT/SIGTERM.
 */
import { startSccEmulator } from './scc-emulator.js';

const port = process.argv[2] === undefined ? 0 : Number(process.argv[2]);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`usage: serve-scc.js [PORT], got ${JSON.stringify(process.argv[2])}`);
  process.exit(2);
}
const emulator = await startSccEmulator({ port });
console.log(`SCC_EMULATOR_HOST=${emulator.endpoint}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void emulator.stop().then(() => process.exit(0));
  });
}
