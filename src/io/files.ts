/** Small file-system questions the readers and writers share. */
import { promises as fs } from 'node:fs';

/** Whether the process may access `path` with `mode` (fs.constants R_OK, W_OK, X_OK); false when it does not exist. */
export async function accessible(path: string, mode: number): Promise<boolean> {
  try {
    await fs.access(path, mode);
    return true;
  } catch {
    return false;
  }
}
