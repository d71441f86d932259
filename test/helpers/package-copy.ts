/**
 * Copies of the compiled package (dist/, package.json, data/) as an installed package looks, for tests of what
 * depends on what is installed beside it: which addon loads, which optional packages are there.
 */
import { copyFileSync, cpSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const packageRoot = resolve(__dirname, '../..');
/** The addon the tests exercise: ZEROLM_NATIVE_PATH (the sanitizer run sets it) or the local build. */
export const builtAddon = process.env.ZEROLM_NATIVE_PATH ? resolve(process.env.ZEROLM_NATIVE_PATH) : join(packageRoot, 'build/Release/zerolm_native.node');

export interface CopyContents {
  /** build/Release/zerolm_native.node */
  localBuild?: boolean;
  /** prebuilds/<platform>-<arch>/zerolm.napi.node, as node-gyp-build lays them out */
  prebuild?: boolean;
  /** node_modules entries left out (the others are linked to this checkout's) */
  withoutPackages?: readonly string[];
}

export function packageCopy(folder: string, contents: CopyContents = {}): string {
  mkdirSync(folder, { recursive: true });
  cpSync(join(packageRoot, 'dist'), join(folder, 'dist'), { recursive: true });
  copyFileSync(join(packageRoot, 'package.json'), join(folder, 'package.json'));
  symlinkSync(join(packageRoot, 'data'), join(folder, 'data'), 'dir');
  const left = new Set(contents.withoutPackages ?? []);
  if (left.size === 0) symlinkSync(join(packageRoot, 'node_modules'), join(folder, 'node_modules'), 'dir');
  else {
    mkdirSync(join(folder, 'node_modules'));
    // Scoped packages (@scope/name) are linked one by one, so that one of a scope can be left out.
    for (const entry of readdirSync(join(packageRoot, 'node_modules'))) {
      if (left.has(entry)) continue;
      if (!entry.startsWith('@')) {
        symlinkSync(join(packageRoot, 'node_modules', entry), join(folder, 'node_modules', entry), 'dir');
        continue;
      }
      for (const scoped of readdirSync(join(packageRoot, 'node_modules', entry))) {
        if (left.has(`${entry}/${scoped}`)) continue;
        mkdirSync(join(folder, 'node_modules', entry), { recursive: true });
        symlinkSync(join(packageRoot, 'node_modules', entry, scoped), join(folder, 'node_modules', entry, scoped), 'dir');
      }
    }
  }
  if (contents.localBuild) {
    mkdirSync(join(folder, 'build/Release'), { recursive: true });
    copyFileSync(builtAddon, join(folder, 'build/Release/zerolm_native.node'));
  }
  if (contents.prebuild) {
    const prebuilds = join(folder, 'prebuilds', `${process.platform}-${process.arch}`);
    mkdirSync(prebuilds, { recursive: true });
    copyFileSync(builtAddon, join(prebuilds, 'zerolm.napi.node'));
  }
  return folder;
}
