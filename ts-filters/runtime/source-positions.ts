// Stack frames the native side captured (the CPU watchdog's) point into the bundle; Node maps the
// stacks of errors it formats itself. This maps "(file:line:column)" frames the same way, through
// the source maps Node loaded with the bundles (--enable-source-maps).

import { findSourceMap, type SourceMap } from 'module';
import { fileURLToPath } from 'url';

import { MapPrototypeGet, MapPrototypeHas, MapPrototypeSet } from './primordials';

const FRAME_POSITION = /\(([^()\n]+):(\d+):(\d+)\)$/gm;

/** `stack` with each frame's position in a bundle replaced by its position in the source. */
export function mapStackPositions(stack: string): string {
  // Node 18 decodes a file's whole map on every findSourceMap: once per file here, not per frame.
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (file: string): SourceMap | undefined => {
    if (!MapPrototypeHas(maps, file)) MapPrototypeSet(maps, file, findSourceMap(file));
    return MapPrototypeGet(maps, file);
  };
  return stack.replace(FRAME_POSITION, (frame: string, file: string, line: string, column: string) => {
    try {
      const entry = mapOf(file)?.findEntry(Number(line) - 1, Number(column) - 1) as
        { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
      if (entry?.originalSource === undefined || entry.originalLine === undefined ||
          entry.originalColumn === undefined) return frame;
      const source = entry.originalSource.startsWith('file:') ? fileURLToPath(entry.originalSource) : entry.originalSource;
      return `(${source}:${entry.originalLine + 1}:${entry.originalColumn + 1})`;
    } catch {
      return frame;
    }
  });
}
