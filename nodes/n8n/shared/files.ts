import { realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, basename, isAbsolute, join, relative, resolve } from 'node:path';
import { RoboflowError, checkVideoFile } from '../../../lib';

/** Where n8n 2.x lets nodes read files, in words (for descriptions and errors). */
export const FILE_ACCESS_RULE =
  'n8n 2.x lets nodes read files only inside ~/.n8n-files (the home folder of the user running n8n; /home/node/.n8n-files in the n8n Docker image) unless N8N_RESTRICT_FILE_ACCESS_TO lists other folders, separated by ;';

/** `~` at the start is the home folder of the user running n8n, as n8n itself reads it. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** The folders n8n allows (N8N_RESTRICT_FILE_ACCESS_TO, default ~/.n8n-files); empty: anywhere. */
export function allowedFolders(env: NodeJS.ProcessEnv = process.env): string[] {
  const setting = env.N8N_RESTRICT_FILE_ACCESS_TO ?? '~/.n8n-files';
  return setting
    .split(';')
    .map((folder) => folder.trim())
    .filter(Boolean)
    .map(expandHome);
}

function within(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** A path with its symlinks resolved (its folder's, when the file itself does not exist). */
async function resolvedPath(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    try {
      return join(await realpath(dirname(path)), basename(path));
    } catch {
      return resolve(path);
    }
  }
}

/**
 * Checks a video file on the n8n host the way n8n checks its own file nodes (used
 * where n8n's own helpers are not offered, as in triggers): inside an allowed folder,
 * present, readable and not empty. Returns the resolved path; throws what to fix.
 */
export async function checkVideoPath(path: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const resolved = await resolvedPath(expandHome(path.trim()));
  const folders = allowedFolders(env);
  if (folders.length > 0) {
    const resolvedFolders = await Promise.all(folders.map(resolvedPath));
    if (!resolvedFolders.some((folder) => within(folder, resolved))) {
      throw new RoboflowError('invalid-input', `n8n may not read ${path}: ${FILE_ACCESS_RULE} (allowed now: ${folders.join('; ')})`);
    }
  }
  await checkHostVideo(resolved);
  return resolved;
}

/** lib's file check (present, a file, readable, not empty), saying where a path on the n8n machine is looked for. */
export async function checkHostVideo(path: string): Promise<void> {
  await checkVideoFile(path).catch((error: unknown) => {
    if (error instanceof RoboflowError && error.message.includes('not found')) {
      throw new RoboflowError('invalid-input', `${error.message} (a path on the n8n machine; ~ is the home folder of the user running n8n)`);
    }
    throw error;
  });
}
