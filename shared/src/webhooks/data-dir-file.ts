import { randomUUID } from 'node:crypto';
import { chmod, copyFile, link, readFile, unlink, writeFile } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';

// Key files generated once under DATA_DIR in local/test (the RSA signing key, the secret key).

/**
 * Writes `text` to `path` (mode 0600) unless a file is already there. Two processes starting
 * together may both generate a key; each writes its own temp file and hard-links it into place,
 * which fails if the target exists, so exactly one wins and everyone then reads the winner's key.
 */
export async function publishOnce(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
  await chmod(tmp, 0o600); // exactly 0600 whatever the umask (writeFile's mode is umask-filtered)
  try {
    await link(tmp, path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return; // another process won; its key is the one
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
    // Filesystems without hard links: an exclusive copy still never overwrites a winner's key
    // (only a reader racing the copy itself could see a partial file; this path is rare).
    await copyFile(tmp, path, fsConstants.COPYFILE_EXCL).catch((copyErr: NodeJS.ErrnoException) => {
      if (copyErr.code !== 'EEXIST') throw copyErr;
    });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
