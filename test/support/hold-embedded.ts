/** Opens the embedded database in argv[2] and holds it until stdin closes (for lock tests). */
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';

const home = process.argv[2]!;
const db = await openDatabase(loadConfig({ home }, {}, home), { command: 'test holder', lockWaitMs: 0 });
process.stdout.write('holding\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await db.close();
});
