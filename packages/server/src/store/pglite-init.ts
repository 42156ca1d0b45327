/**
 * Creates a new PGlite data directory (PostgreSQL's initdb, run inside PGlite's WebAssembly) in a
 * process of its own: `node pglite-init.js DIR`. initdb needs a second WebAssembly instance and
 * several hundred MB that PGlite does not give back once done (measured: an idle server held
 * 831 MB after its first start, 404 MB after a restart on the same directory); in a child
 * process that memory ends with it, and the server opens the ready directory like at any restart.
 */
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: pglite-init DIR\n');
  process.exit(2);
}
const db = await PGlite.create({ dataDir: dir });
await db.close();
