// Running a chain's hook over its filters. Request hooks run in chain order, response hooks in
// reverse (config.chains has them ordered). A hook that returns a promise stops the chain;
// once it settled, the native side calls onResume and the chain goes on after that filter.
// A hook that returns (or resolves to) a Response replies with it.

import type { HttpFilterContext } from '../api/types';
import { HookOutcome, LogLevel } from './codes';
import type { ChainLink } from './config';
import { CONTINUE_CHAIN, applyFailure } from './failure';
import { RUNTIME_PREFIX, describeError, filterPrefix, writeLog } from './log';
import type { HookOutcome as NativeHookOutcome, HookKind as NativeHookKind } from './native';
import { isResponse, respondWith } from './response-reply';
import type { PendingHook, StreamState } from './stream';

/** Run `hook` for every filter of the chain from position `from`. The caller sets stream.inHook. */
export function runChain(stream: StreamState, hook: NativeHookKind, from: number): NativeHookOutcome {
  const chain = stream.config.chains[hook] ?? [];
  const headers = stream.headerMapFor(hook);
  for (let i = from; i < chain.length; i++) {
    const link = chain[i] as ChainLink;
    if (stream.disabled(link.filter)) continue;
    const ctx = stream.contextFor(link.filter);
    let result: unknown;
    try {
      result = link.hook.call(link.filter.definition, headers, ctx);
      if (isResponse(result)) result = respondWith(ctx, result);
    } catch (error) {
      const outcome = applyFailure(stream, link, 'threw', error);
      if (outcome === CONTINUE_CHAIN) continue;
      return outcome;
    }
    if (result !== undefined && result !== null &&
        typeof (result as PromiseLike<unknown>).then === 'function') {
      const pending: PendingHook = { hook, link, position: i, settled: false, failed: false, error: undefined };
      stream.pending = pending;
      try {
        (result as PromiseLike<unknown>).then(
          (value: unknown) => {
            if (isResponse(value)) settleWithReply(stream, pending, ctx, value);
            else settle(stream, pending, false, undefined);
          },
          (error: unknown) => settle(stream, pending, true, error));
      } catch (error) {
        stream.pending = undefined;
        const outcome = applyFailure(stream, link, 'threw', error);
        if (outcome === CONTINUE_CHAIN) continue;
        return outcome;
      }
      return HookOutcome.Pending;
    }
    if (stream.reply !== undefined) return sendReply(stream);
  }
  return HookOutcome.Continue;
}

/** The stream's pending hook settled: note how, and ask native for onResume. */
function settle(stream: StreamState, pending: PendingHook, failed: boolean, error: unknown): void {
  // Destroyed, or superseded (e.g. a local reply from elsewhere started the response phase).
  if (stream.pending !== pending || stream.closed) return;
  pending.settled = true;
  pending.failed = failed;
  pending.error = error;
  try {
    stream.binding.requestResume(stream.slot, stream.gen);
  } catch (err) {
    writeLog(stream.binding, LogLevel.Debug, RUNTIME_PREFIX,
             `requestResume(${stream.slot}, ${stream.gen}) failed: ${describeError(err)}`, []);
  }
}

/** The pending hook resolved to a Response: settle once its reply is requested. */
function settleWithReply(stream: StreamState, pending: PendingHook, ctx: HttpFilterContext<unknown>,
                         response: Response): void {
  if (stream.pending !== pending || stream.closed) return;
  try {
    const reading = respondWith(ctx, response);
    if (reading === undefined) {
      settle(stream, pending, false, undefined);
    } else {
      reading.then(() => settle(stream, pending, false, undefined),
                   (error: unknown) => settle(stream, pending, true, error));
    }
  } catch (error) {
    settle(stream, pending, true, error);
  }
}

/**
 * Apply a settled pending hook (inside the stream's scheduled callback): its failure, its reply,
 * or the rest of the chain. Pending when there is nothing to apply (a spurious resume).
 */
export function resumeChain(stream: StreamState): NativeHookOutcome {
  const pending = stream.pending;
  if (pending === undefined || !pending.settled) return HookOutcome.Pending;
  stream.pending = undefined;
  if (pending.failed) {
    const outcome = applyFailure(stream, pending.link, 'rejected', pending.error);
    if (outcome !== CONTINUE_CHAIN) return outcome;
  } else if (stream.reply !== undefined) {
    return sendReply(stream);
  }
  return runChain(stream, pending.hook, pending.position + 1);
}

/** Send the reply a filter requested with ctx.respond(). */
function sendReply(stream: StreamState): NativeHookOutcome {
  const reply = stream.reply;
  if (reply === undefined) return HookOutcome.Continue;
  stream.reply = undefined;
  stream.replied = true;
  try {
    stream.binding.sendLocalReply(stream.slot, stream.gen, reply.status, reply.headers, reply.body,
                                  reply.details);
  } catch (error) {
    writeLog(stream.binding, LogLevel.Error, RUNTIME_PREFIX, `sendLocalReply failed: ${describeError(error)}`, []);
  }
  return HookOutcome.Replied;
}

/** Run every onStreamComplete hook (synchronous; a throw is logged and the others still run). */
export function runCompleteChain(stream: StreamState): void {
  for (const { filter, hook } of stream.config.completeChain) {
    if (stream.disabled(filter)) continue;
    try {
      hook.call(filter.definition, stream.contextFor(filter));
    } catch (error) {
      writeLog(stream.binding, LogLevel.Error, filterPrefix(filter.name), `onStreamComplete threw: ${describeError(error)}`, []);
    }
  }
}
