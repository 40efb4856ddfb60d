// Fails when SQL statement text appears outside src/db/, or a file in src/ passes 300 lines without
// a reason for its length on its first line (a comment containing "long:").
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const MAX_LINES = 300;
const SQL = [/\bselect\s[\s\S]{0,400}?\bfrom\s/i, /\binsert\s+into\s/i, /\bupdate\s+\w+\s+set\s/i, /\bdelete\s+from\s/i];

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

/** String literals and template literals of a file (where statement text would live). */
function literals(source) {
  return source.match(/`(?:\\[\s\S]|[^`\\])*`|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"/g) ?? [];
}

const problems = [];
for (const path of files(join(root, 'src'))) {
  const name = relative(root, path);
  const source = readFileSync(path, 'utf8');
  const lines = source.split('\n').length;
  if (lines > MAX_LINES && !/^\/\/.*\blong:/i.test(source)) {
    problems.push(`${name}: ${lines} lines; split it or say why on its first line ("// ... long: <reason>")`);
  }
  if (!name.startsWith('src/db/')) {
    for (const text of literals(source)) {
      if (SQL.some((re) => re.test(text))) {
        problems.push(`${name}: SQL statement outside src/db/: ${text.replace(/\s+/g, ' ').slice(0, 80)}`);
      }
    }
  }
}
for (const p of problems) console.error(p);
process.exit(problems.length > 0 ? 1 : 0);
