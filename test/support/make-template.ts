/** Creates the migrated embedded database that tests copy (see scripts/test.sh). */
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: make-template.js DIR');
const db = await openDatabase(loadConfig({ home: dir }, {}, dir), { command: 'test template' });
await db.close();
