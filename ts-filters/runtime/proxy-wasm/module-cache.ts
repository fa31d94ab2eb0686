/// <reference path="./webassembly.d.ts" />
// Compiled proxy-wasm modules of one Node environment, by content: a module file is read and
// compiled once, and every VM of the environment built from the same bytes shares the compiled
// WebAssembly.Module (instances are per VM). A module nobody holds any more is forgotten.

import { createHash } from 'crypto';
import { readFileSync } from 'fs';

import { ConfigError } from '../../api/errors';
import { errorMessage } from '../log';
import { ABI_VERSIONS } from './abi';

/** A compiled module and what it advertises. */
export interface CompiledModule {
  readonly path: string;
  /** SHA-256 of the file's bytes. */
  readonly hash: string;
  readonly module: WebAssembly.Module;
  /** The ABI version its `proxy_abi_version_*` marker names, e.g. "0_2_0". */
  readonly abiVersion: (typeof ABI_VERSIONS)[number];
}

interface Entry {
  readonly compiled: CompiledModule;
  holders: number;
}

export class ModuleCache {
  readonly #entries = new Map<string, Entry>();

  /** The module in the file at `path` now, compiled unless held already. Throws ConfigError. */
  acquire(path: string): CompiledModule {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new ConfigError(`proxy-wasm module ${path} cannot be read: ${errorMessage(error)}`);
    }
    const hash = createHash('sha256').update(bytes).digest('hex');
    let entry = this.#entries.get(hash);
    if (entry === undefined) {
      entry = { compiled: compile(path, hash, bytes), holders: 0 };
      this.#entries.set(hash, entry);
    }
    entry.holders++;
    return entry.compiled;
  }

  /** One more holder of a module already held (a fresh VM of the same content). */
  hold(compiled: CompiledModule): void {
    const entry = this.#entries.get(compiled.hash);
    if (entry === undefined) this.#entries.set(compiled.hash, { compiled, holders: 1 });
    else entry.holders++;
  }

  release(compiled: CompiledModule): void {
    const entry = this.#entries.get(compiled.hash);
    if (entry !== undefined && --entry.holders === 0) this.#entries.delete(compiled.hash);
  }

  /** How many modules are held (tests). */
  get size(): number {
    return this.#entries.size;
  }
}

function compile(path: string, hash: string, bytes: Uint8Array): CompiledModule {
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(bytes);
  } catch (error) {
    throw new ConfigError(`proxy-wasm module ${path} is not a valid WebAssembly module: ${errorMessage(error)}`);
  }
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const abiVersion = ABI_VERSIONS.find((version) => exported.has(`proxy_abi_version_${version}`));
  if (abiVersion === undefined) {
    const markers = [...exported].filter((name) => name.startsWith('proxy_abi_version_'));
    throw new ConfigError(`proxy-wasm module ${path} does not implement ABI 0.2.0 or 0.2.1 ` +
                          `(${markers.length > 0 ? `it exports ${markers.join(', ')}` : 'no proxy_abi_version_* export'})`);
  }
  if (!exported.has('memory')) throw new ConfigError(`proxy-wasm module ${path} exports no memory`);
  if (!exported.has('proxy_on_memory_allocate') && !exported.has('malloc')) {
    throw new ConfigError(`proxy-wasm module ${path} exports neither proxy_on_memory_allocate nor malloc`);
  }
  return { path, hash, module, abiVersion };
}
