// resp-guard: a Redis command firewall in front of a Redis server (network filter, before tcp_proxy).
//
// Client → Redis: the read buffer is cut into commands (RESP arrays of bulk strings, or inline
// commands such as `PING\r\n`) with `takeFrames`. Allowed commands go on with `ctx.injectRead`;
// a blocked command is answered with `-ERR command '<name>' is blocked by policy` and never reaches
// Redis. An incomplete command stays in Envoy's buffer (StopIteration) until the rest arrives.
// A malformed command answers `-ERR Protocol error: ...` and closes the connection.
//
// Ordering: a pipelining client reads replies in the order it sent commands, so a blocked
// command's error must come after the replies of the commands sent before it. The filter counts
// Redis' replies in onWrite; an error is written at once when every forwarded command has been
// answered, and otherwise inserted into the reply stream right after the reply of the last
// command forwarded before it. This holds for request/reply traffic; once the client enters a
// mode where replies are not one per command (SUBSCRIBE & co, MONITOR, CLIENT REPLY, RESP3 pushes)
// errors are written as soon as the earlier ones are placed.

import {
  FrameError,
  NetworkStatus,
  defineNetworkFilter,
  takeFrames,
  type ChunkedBytes,
  type Framing,
  type NetworkFilter,
  type NetworkFilterContext,
  type NetworkMetricsDeclaration,
} from 'envoy-ts';

/** resp-guard's config, as written in the chain entry. */
export interface RespGuardConfig {
  /** Commands to refuse, case-insensitive (e.g. ["FLUSHALL", "KEYS"]). */
  readonly blocked: readonly string[];
  /** Commands counted under their own `commands.<name>` counter (default ["GET", "SET"]). */
  readonly counted?: readonly string[];
  /** Largest command accepted, in bytes (default 16 MiB; Redis' own limit is 512 MiB). */
  readonly maxCommandSize?: number;
}

interface ParsedConfig {
  /** Upper-case names. */
  readonly blocked: ReadonlySet<string>;
  /** Upper-case name → its counter. */
  readonly counters: ReadonlyMap<string, string>;
  readonly framing: Framing;
}

const KEYS = new Set(['blocked', 'counted', 'maxCommandSize']);
const COMMAND_NAME = /^[A-Za-z][A-Za-z0-9_|-]*$/;

/** Redis command names are ASCII and compared case-insensitively (strcasecmp). */
const asciiUpper = (name: string): string => name.replace(/[a-z]+/g, (s) => s.toUpperCase());

function names(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((n): n is string => typeof n === 'string' && COMMAND_NAME.test(n))) {
    throw new TypeError(`"${what}" must be an array of command names`);
  }
  return value.map(asciiUpper);
}

function parseConfig(raw: unknown): ParsedConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TypeError('config must be an object like {"blocked": ["FLUSHALL"]}');
  }
  const config = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(config).filter((key) => !KEYS.has(key));
  if (unknownKeys.length > 0) throw new TypeError(`unknown config key(s): ${unknownKeys.join(', ')}`);
  const blocked = names(config['blocked'], 'blocked');
  const counted = names(config['counted'] ?? ['GET', 'SET'], 'counted');
  const maxCommandSize = config['maxCommandSize'] ?? 16 * 1024 * 1024;
  if (typeof maxCommandSize !== 'number' || !Number.isSafeInteger(maxCommandSize) || maxCommandSize < 16) {
    throw new TypeError('"maxCommandSize" must be an integer >= 16');
  }
  return {
    blocked: new Set(blocked),
    counters: new Map(counted.map((name) => [name, `commands.${name.toLowerCase()}`])),
    framing: respCommandFraming(maxCommandSize),
  };
}

// ---- Client → Redis: where does each command end? ----

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;
/** Redis' limits: inline commands and header lines (PROTO_INLINE_MAX_SIZE), array sizes. */
const MAX_INLINE = 64 * 1024;
const MAX_ELEMENTS = 1024 * 1024;

/** `*<n>\r\n` / `$<n>\r\n` at `at`: the number and where the next line starts, or undefined if incomplete. */
function readHeader(bytes: ChunkedBytes, at: number): { value: number; next: number } | undefined {
  const lf = bytes.indexOf(LF, at + 1, at + 24);
  if (lf < 0) {
    if (bytes.length - at >= 24) throw new FrameError('invalid', 'invalid length line');
    return undefined;
  }
  let digits = '';
  for (let i = at + 1; i < lf - 1; i++) digits += String.fromCharCode(bytes.at(i));
  if (bytes.at(lf - 1) !== CR || !/^-?\d+$/.test(digits)) throw new FrameError('invalid', 'invalid length line');
  return { value: Number(digits), next: lf + 1 };
}

/** Client commands: RESP arrays of bulk strings, or inline commands ended by LF. */
function respCommandFraming(maxFrameSize: number): Framing {
  return {
    maxFrameSize,
    frameLength(bytes: ChunkedBytes, start: number): number | undefined {
      if (bytes.at(start) !== STAR) {
        const lf = bytes.indexOf(LF, start, start + MAX_INLINE);
        if (lf >= 0) return lf - start + 1;
        if (bytes.length - start >= MAX_INLINE) throw new FrameError('too-large', 'too big inline request');
        return undefined;
      }
      const head = readHeader(bytes, start);
      if (head === undefined) return undefined;
      if (head.value > MAX_ELEMENTS) throw new FrameError('invalid', 'invalid multibulk length');
      let at = head.next;
      for (let i = 0; i < head.value; i++) {
        if (at >= bytes.length) return undefined;
        if (bytes.at(at) !== DOLLAR) throw new FrameError('invalid', "expected '$'");
        const bulk = readHeader(bytes, at);
        if (bulk === undefined) return undefined;
        if (bulk.value < 0) throw new FrameError('invalid', 'invalid bulk length');
        at = bulk.next + bulk.value + 2;
        if (at - start > maxFrameSize) throw new FrameError('too-large', 'command exceeds maxCommandSize');
        if (at > bytes.length) return i === head.value - 1 ? at - start : undefined;
        if (bytes.at(at - 2) !== CR || bytes.at(at - 1) !== LF) throw new FrameError('invalid', 'bulk not ended by CRLF');
      }
      return at - start;  // `*0` and `*-1` are frames without a command
    },
  };
}

/**
 * The first two words of a complete command (upper case; the second may be ''), or undefined for
 * a frame without a command (`*0`, a blank line), which Redis ignores without a reply.
 */
function commandWords(frame: Uint8Array): [string, string] | undefined {
  const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  if (frame[0] !== STAR) {
    const [name, sub] = inlineArgs(bytes.toString('latin1'));
    return name === undefined ? undefined : [asciiUpper(name), asciiUpper(sub ?? '')];
  }
  let at = bytes.indexOf('\r\n') + 2;
  const count = Number(bytes.toString('latin1', 1, at - 2));
  if (count <= 0) return undefined;
  const words: string[] = [];
  for (let i = 0; i < Math.min(count, 2); i++) {
    const lengthEnd = bytes.indexOf('\r\n', at);
    const length = Number(bytes.toString('latin1', at + 1, lengthEnd));
    words.push(asciiUpper(bytes.toString('latin1', lengthEnd + 2, lengthEnd + 2 + length)));
    at = lengthEnd + 2 + length + 2;
  }
  return [words[0] ?? '', words[1] ?? ''];
}

/**
 * The first two arguments of an inline command, split and unquoted the way Redis does
 * (sdssplitargs), so that `"KE\x59S" *` is recognised as KEYS.
 */
function inlineArgs(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (args.length < 2) {
    while (i < line.length && /[ \t\r\n]/.test(line[i] as string)) i++;
    if (i >= line.length) break;
    const quote = line[i];
    if (quote !== '"' && quote !== "'") {
      const word = /^[^ \t\r\n]*/.exec(line.slice(i))?.[0] ?? '';
      args.push(word);
      i += word.length;
      continue;
    }
    let out = '';
    for (i++; i < line.length && line[i] !== quote; i++) {
      const c = line[i] as string;
      if (c !== '\\' || i + 1 >= line.length) {
        out += c;
      } else if (quote === "'") {
        // Single quotes only know \'.
        if (line[i + 1] === "'") i++;
        out += line[i] === "'" ? "'" : '\\';
      } else if (line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
        out += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
        i += 3;
      } else {
        const next = line[++i] as string;
        out += ({ n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' } as Record<string, string>)[next] ?? next;
      }
    }
    args.push(out);
    i++;
  }
  return args;
}

/** Commands after which Redis' replies are no longer one per command. */
const MODE_SWITCHES = new Set(['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'MONITOR']);

function switchesMode(name: string, sub: string): boolean {
  return MODE_SWITCHES.has(name) || (name === 'CLIENT' && sub === 'REPLY');
}

// ---- Redis → client: where does each reply end? ----

/**
 * Counts complete top-level RESP replies in a byte stream that arrives in pieces, without holding
 * the bytes (onWrite cannot hold them): only a partial header line is kept between calls.
 */
class ReplyCounter {
  /** Set on anything it does not understand (e.g. RESP3 pushes): counting stops. */
  lost = false;
  #line = '';
  /** Bulk bytes (and their CRLF) still to skip. */
  #skip = 0;
  /** Elements still expected by each open aggregate, innermost last. */
  readonly #open: number[] = [];

  /** Scan `chunks`; `onReply(end)` is called with the offset just after each complete reply. */
  feed(chunks: readonly Uint8Array[], onReply: (end: number) => void): void {
    let base = 0;
    for (const chunk of chunks) {
      let pos = 0;
      while (pos < chunk.length && !this.lost) {
        if (this.#skip > 0) {
          const n = Math.min(this.#skip, chunk.length - pos);
          this.#skip -= n;
          pos += n;
          if (this.#skip === 0) this.#element(base + pos, onReply);
          continue;
        }
        const lf = chunk.indexOf(LF, pos);
        const end = lf < 0 ? chunk.length : lf + 1;
        this.#line += Buffer.from(chunk.buffer, chunk.byteOffset + pos, end - pos).toString('latin1');
        pos = end;
        if (this.#line.length > MAX_INLINE) this.lost = true;
        if (lf >= 0) this.#header(base + pos, onReply);
      }
      base += chunk.length;
    }
  }

  #header(end: number, onReply: (end: number) => void): void {
    const line = this.#line;
    this.#line = '';
    const type = line[0];
    const n = Number(line.slice(1, -2));
    switch (type) {
      case '+': case '-': case ':': case '_': case ',': case '#': case '(':
        this.#element(end, onReply);
        return;
      case '$': case '!': case '=':
        if (n < 0) this.#element(end, onReply);
        else this.#skip = n + 2;
        return;
      case '*': case '~': case '%':
        if (n <= 0) this.#element(end, onReply);
        else this.#open.push(type === '%' ? 2 * n : n);
        return;
      default:  // '>' pushes, '|' attributes, garbage: replies are no longer one per command
        this.lost = true;
    }
  }

  #element(end: number, onReply: (end: number) => void): void {
    for (;;) {
      const depth = this.#open.length;
      if (depth === 0) {
        onReply(end);
        return;
      }
      const left = (this.#open[depth - 1] as number) - 1;
      if (left > 0) {
        this.#open[depth - 1] = left;
        return;
      }
      this.#open.pop();
    }
  }
}

// ---- Per-connection state ----

interface Deferred {
  /** Written after this many replies (the number of commands forwarded before it). */
  readonly after: number;
  readonly bytes: Uint8Array;
}

interface ConnState {
  forwarded: number;
  replied: number;
  /** Blocked replies waiting for earlier replies, in order. */
  readonly deferred: Deferred[];
  readonly replies: ReplyCounter;
  /** Replies are no longer one per command: no more deferring. */
  untracked: boolean;
  /** This filter's own ctx.write is passing through its onWrite: not a Redis reply. */
  writingOwn: boolean;
}

/** One context per filter per connection: it keys the connection's state. */
const states = new WeakMap<object, ConnState>();

function stateOf(ctx: object): ConnState {
  let state = states.get(ctx);
  if (state === undefined) {
    state = { forwarded: 0, replied: 0, deferred: [], replies: new ReplyCounter(), untracked: false, writingOwn: false };
    states.set(ctx, state);
  }
  return state;
}

function writeOwn(ctx: NetworkFilterContext<ParsedConfig>, state: ConnState, bytes: Uint8Array | string): void {
  state.writingOwn = true;
  try {
    ctx.write(bytes);
  } finally {
    state.writingOwn = false;
  }
}

/** Blocks configured Redis commands (config: RespGuardConfig). */
export const respGuard: NetworkFilter<ParsedConfig> = defineNetworkFilter({
  name: 'resp-guard',
  parseConfig,
  // One counter per configured command: names known only at run time.
  metrics: (config: ParsedConfig): NetworkMetricsDeclaration => ({
    ...Object.fromEntries([...config.counters.values()].map((name) => [name, 'counter' as const])),
    'commands.other': 'counter',
    blocked: 'counter',
    malformed: 'counter',
  }),

  onData(data, endStream, ctx) {
    const state = stateOf(ctx);
    const { blocked, counters, framing } = ctx.config;
    // Consecutive allowed commands are contiguous in takeFrames' copy: inject them as one run.
    let run: Uint8Array | undefined;
    const flush = (end: boolean): void => {
      if (run !== undefined || end) ctx.injectRead(run ?? new Uint8Array(0), end);
      run = undefined;
    };
    try {
      for (let frames = takeFrames(data, framing); frames.length > 0; frames = takeFrames(data, framing)) {
        for (const frame of frames) {
          const words = commandWords(frame);
          if (words === undefined) continue;  // Redis ignores it and sends no reply: so do we
          const [name, sub] = words;
          if (blocked.has(name)) {
            ctx.metrics.increment('blocked');
            const error = `-ERR command '${name.toLowerCase()}' is blocked by policy\r\n`;
            if (state.untracked || state.replied >= state.forwarded) writeOwn(ctx, state, error);
            else state.deferred.push({ after: state.forwarded, bytes: Buffer.from(error, 'latin1') });
            continue;
          }
          ctx.metrics.increment(counters.get(name) ?? 'commands.other');
          state.forwarded++;
          if (switchesMode(name, sub)) state.untracked = true;
          if (run !== undefined && run.buffer === frame.buffer && run.byteOffset + run.length === frame.byteOffset) {
            run = new Uint8Array(run.buffer, run.byteOffset, run.length + frame.length);
          } else {
            flush(false);
            run = frame;
          }
        }
      }
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      flush(false);  // the commands before the bad one still go
      ctx.metrics.increment('malformed');
      ctx.log.debug('closing: malformed command: %s', error.message);
      writeOwn(ctx, state, `-ERR Protocol error: ${error.message}\r\n`);
      ctx.close('flush');
      return NetworkStatus.StopIteration;
    }
    if (endStream) data.drain(data.length);  // a truncated last command is dropped
    flush(endStream);
    // Whatever is left is an incomplete command: keep it in Envoy's buffer until the rest arrives.
    return NetworkStatus.StopIteration;
  },

  onWrite(data, _endStream, ctx) {
    const state = stateOf(ctx);
    if (state.writingOwn || state.replies.lost) return NetworkStatus.Continue;
    // Place each deferred error right after the reply it must follow.
    const inserts: { at: number; bytes: Uint8Array }[] = [];
    state.replies.feed(data.chunks(), (end) => {
      state.replied++;
      while (state.deferred[0] !== undefined && state.deferred[0].after <= state.replied) {
        inserts.push({ at: end, bytes: (state.deferred.shift() as Deferred).bytes });
      }
    });
    if (state.replies.lost) {
      // Counting is no longer possible: what is still deferred goes out after these bytes.
      inserts.push(...state.deferred.splice(0).map(({ bytes }) => ({ at: data.length, bytes })));
    }
    if (inserts.length > 0) {
      const bytes = data.bytes();
      const parts: Uint8Array[] = [];
      let last = 0;
      for (const { at, bytes: insert } of inserts) {
        parts.push(bytes.subarray(last, at), insert);
        last = at;
      }
      parts.push(bytes.subarray(last));
      data.replace(Buffer.concat(parts));
    }
    return NetworkStatus.Continue;
  },
});
