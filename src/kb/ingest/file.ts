/** Checking a file before it is read: it exists, is a regular file, and is neither empty nor too large. */
import { readFile, stat } from 'node:fs/promises';
import { UserError } from '../../errors.js';

/** The file's bytes; every reason it cannot be ingested is a UserError naming the file. */
export async function readChecked(path: string, maxBytes: number): Promise<Buffer> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      `${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
      'unreadable_file',
      { cause: err },
    );
  }
  if (info.isDirectory()) throw new UserError(`${path}: is a directory — give the files inside it`, 'is_directory');
  if (!info.isFile()) throw new UserError(`${path}: not a regular file`, 'not_a_file');
  if (info.size === 0) throw new UserError(`${path}: empty file`, 'empty_file');
  if (info.size > maxBytes) {
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    throw new UserError(`${path}: ${mb(info.size)} MB is over the ${mb(maxBytes)} MB limit (COPILOT_MAX_FILE_MB)`, 'file_too_large');
  }
  try {
    return await readFile(path);
  } catch (err) {
    throw new UserError(`${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'unreadable_file', {
      cause: err,
    });
  }
}
